import { Kafka, logLevel, Partitioners } from "kafkajs";
import { createEventLog } from "@chat4all/eventlog";
const brokers = ["127.0.0.1:59092"];
const topic = `bench-${Date.now()}`;
const kafka = new Kafka({ clientId: "bench", brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin(); await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
const value = Buffer.alloc(200);
const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
await p.connect();
await p.send({ topic, acks: -1, messages: [{ key: "w", value }] });
for (const n of [2000]) {
  let t0 = performance.now();
  const res = await Promise.allSettled(Array.from({ length: n }, (_, i) => p.send({ topic, acks: -1, messages: [{ key: `conv-${i % 97}`, value }] })));
  const failed = res.filter((r) => r.status === "rejected");
  console.log(`raw kafkajs, ${n} concurrent send() of 1 record: ${Math.round(n / ((performance.now() - t0) / 1000))}/s, failed ${failed.length}`, failed[0] && String((failed[0] as PromiseRejectedResult).reason));
  t0 = performance.now();
  for (let i = 0; i < 500; i++) await p.send({ topic, acks: -1, messages: [{ key: `conv-${i % 97}`, value }] });
  console.log(`raw kafkajs, 500 sequential awaited send(): ${Math.round(500 / ((performance.now() - t0) / 1000))}/s`);
}
await p.disconnect();
for (const lingerMs of [0, 1, 2]) {
  const log = await createEventLog({ backend: "kafka", brokers, clientId: "bench", lingerMs });
  await log.ensureTopics([{ name: topic, partitions: 4 }]);
  const u = new Uint8Array(200);
  for (const n of [5000, 20000]) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => log.append(topic, [{ key: `conv-${i % 97}`, value: u }])));
    console.log(`adapter lingerMs ${lingerMs}: ${n} concurrent appends: ${Math.round(n / ((performance.now() - t0) / 1000))}/s`);
  }
  // latency of a lone append
  const t1 = performance.now();
  for (let i = 0; i < 100; i++) await log.append(topic, [{ key: "x", value: u }]);
  console.log(`adapter lingerMs ${lingerMs}: sequential append latency ${((performance.now() - t1) / 100).toFixed(2)} ms`);
  // steady stream: 64 concurrent "clients" each appending in a loop for 2 s
  let count = 0; const end = Date.now() + 2000;
  await Promise.all(Array.from({ length: 64 }, async (_, c) => { while (Date.now() < end) { await log.append(topic, [{ key: `conv-${c}`, value: u }]); count++; } }));
  console.log(`adapter lingerMs ${lingerMs}: 64 closed-loop writers: ${Math.round(count / 2)}/s`);
  await log.close();
}
await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }); await admin.disconnect();
