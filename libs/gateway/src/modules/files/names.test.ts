import { describe, expect, test } from "bun:test";
import { contentDisposition, isInlineSafe, keySafeName, normalizeContentType, sanitizeFilename, typeAllowed } from "./names.ts";
import { DEFAULT_FILE_SETTINGS, S3_MAX_PARTS, partSizeFor, uploadBodyCeiling } from "./settings.ts";

describe("file names and types", () => {
  test("files: sanitizing a name keeps only its last segment, without controls, bidi overrides or reserved characters", () => {
    expect(sanitizeFilename("../../etc/passwd")).toBe("passwd");
    expect(sanitizeFilename("C:\\Users\\me\\report.pdf")).toBe("report.pdf");
    expect(sanitizeFilename("inv\u0000oice\u202egpj.exe")).toBe("invoicegpj.exe");
    expect(sanitizeFilename('a"b<c>|d?.txt')).toBe("a_b_c__d_.txt");
    expect(sanitizeFilename("  many   spaces\t\n.png ")).toBe("many spaces.png");
    expect(sanitizeFilename("...")).toBe("file");
    expect(sanitizeFilename(".htaccess")).toBe("htaccess");
    expect(sanitizeFilename("")).toBe("file");
    expect(sanitizeFilename("e\u0301te\u0301.txt")).toBe("été.txt"); // NFC
  });

  test("files: a long name is cut to 200 UTF-8 bytes and keeps its extension", () => {
    const s = sanitizeFilename(`${"ç".repeat(300)}.docx`);
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(200);
    expect(s.endsWith(".docx")).toBe(true);
    expect(s.startsWith("ççç")).toBe(true);
    const plain = sanitizeFilename("x".repeat(500));
    expect(plain).toBe("x".repeat(200));
  });

  test("files: the key segment of a name is ASCII letters, digits, dot, dash and underscore only", () => {
    expect(keySafeName("relatório final (2).pdf")).toBe("relatorio_final_2.pdf");
    expect(keySafeName("写真.jpg")).toBe("file.jpg");
    expect(keySafeName("-rf.sh")).toBe("rf.sh");
    expect(keySafeName("???")).toBe("file");
    const long = keySafeName(`${"a".repeat(300)}.tar`);
    expect(long.length).toBe(100);
    expect(long.endsWith(".tar")).toBe(true);
    for (const n of ["..", ".", "a/b", "%2e%2e"]) expect(keySafeName(sanitizeFilename(n))).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  });

  test("files: content types are lowercased without parameters, and garbage is refused", () => {
    expect(normalizeContentType("Image/PNG; charset=binary")).toBe("image/png");
    expect(normalizeContentType(" application/vnd.openxmlformats-officedocument.wordprocessingml.document ")).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    for (const bad of ["png", "image/", "/png", "image/png/x", "image/p ng", "ímage/png", ""]) expect(() => normalizeContentType(bad)).toThrow();
  });

  test("files: the allow-list matches exact types and type/* wildcards", () => {
    const allowed = ["image/*", "application/pdf"];
    expect(typeAllowed("image/png", allowed)).toBe(true);
    expect(typeAllowed("image/svg+xml", allowed)).toBe(true);
    expect(typeAllowed("application/pdf", allowed)).toBe(true);
    expect(typeAllowed("application/pdfx", allowed)).toBe(false);
    expect(typeAllowed("text/html", allowed)).toBe(false);
    expect(typeAllowed("text/html", ["*/*"])).toBe(true);
    expect(typeAllowed("text/html", DEFAULT_FILE_SETTINGS.allowedTypes)).toBe(false);
    expect(typeAllowed("video/mp4", DEFAULT_FILE_SETTINGS.allowedTypes)).toBe(true);
  });

  test("files: only passive media, PDF and plain text are inline; active content downloads as an attachment", () => {
    for (const t of ["image/png", "video/mp4", "audio/mpeg", "application/pdf", "text/plain"]) expect(isInlineSafe(t)).toBe(true);
    for (const t of ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml", "application/javascript", "text/javascript", "application/zip"])
      expect(isInlineSafe(t)).toBe(false);
    expect(contentDisposition("text/html", "page.html")).toStartWith("attachment;");
    expect(contentDisposition("image/png", "a.png")).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
    expect(contentDisposition("application/pdf", "relatório 'final'.pdf")).toBe(
      `inline; filename="relat_rio 'final'.pdf"; filename*=UTF-8''relat%C3%B3rio%20%27final%27.pdf`,
    );
  });

  test("files: part sizes grow so that no upload needs more than 10000 parts", () => {
    const s = { ...DEFAULT_FILE_SETTINGS, partBytes: 5 * 1024 * 1024 };
    expect(partSizeFor(10, s)).toBe(5 * 1024 * 1024);
    const huge = 200 * 1024 ** 3;
    expect(Math.ceil(huge / partSizeFor(huge, s))).toBeLessThanOrEqual(S3_MAX_PARTS);
    expect(uploadBodyCeiling(s)).toBeGreaterThan(s.maxBytes);
  });
});
