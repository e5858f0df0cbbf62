export {
  ERROR_KIND_HEADER,
  ERROR_CODE_HEADER,
  RETRY_AFTER_HEADER,
  connectCodeOf,
  toConnectError,
  fromConnectError,
  type ErrorTranslationOptions,
  createErrorInterceptor,
  withConnectErrors,
} from "./errors.ts";
export { type ConnectHandlerOptions, DEFAULT_READ_MAX_BYTES, createConnectHandler } from "./handler.ts";
export { type HttpTransportOptions, createHttpTransport } from "./transport.ts";
export { createSequencerService, createSequencerClient } from "./sequencer.ts";
export { createMetadataService } from "./metadata-service.ts";
export { createMetadataClient } from "./metadata-client.ts";
