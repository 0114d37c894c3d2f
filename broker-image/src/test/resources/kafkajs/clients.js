// kafkajs (a Kafka client written from scratch in JavaScript, no librdkafka) against the broker:
// an admin creates a topic, an idempotent producer sends keyed messages, two consumers of one
// group share and read them all and commit, the admin reads the group's offsets back, and a
// transactional producer commits one transaction. Prints one JSON line with what it saw.
const { Kafka, logLevel } = require('kafkajs');

const brokers = process.env.BROKERS.split(',');
const topic = process.env.TOPIC;
const count = 200;
const kafka = new Kafka({ clientId: 'kafkajs-it', brokers, logLevel: logLevel.WARN, retry: { retries: 10 } });

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  const cluster = await admin.describeCluster();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < count; i += 20) {
    const messages = [];
    for (let j = i; j < i + 20; j++) messages.push({ key: `k${j % 10}`, value: `v${j}` });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();

  const seen = new Set();
  const consumers = [];
  for (let c = 0; c < 2; c++) {
    const consumer = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { seen.add(message.value.toString()); } });
    consumers.push(consumer);
  }
  const deadline = Date.now() + 60000;
  while (seen.size < count && Date.now() < deadline) await new Promise(r => setTimeout(r, 200));
  // Let the auto-commit of what was read happen before leaving.
  await new Promise(r => setTimeout(r, 6000));
  for (const c of consumers) await c.disconnect();

  const offsets = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
  const committed = offsets[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  const latest = await admin.fetchTopicOffsets(topic);
  const high = latest.reduce((sum, p) => sum + Number(p.high), 0);

  const txn = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
  await txn.connect();
  const t = await txn.transaction();
  await t.send({ topic, messages: [{ key: 'tx', value: 'in a transaction' }] });
  await t.commit();
  await txn.disconnect();
  // The markers are written after the commit is answered (as with Kafka): wait for them to be
  // readable by a read_committed client.
  let afterTxn = high;
  const txnDeadline = Date.now() + 15000;
  while (afterTxn < high + 2 && Date.now() < txnDeadline) {
    afterTxn = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    if (afterTxn < high + 2) await new Promise(r => setTimeout(r, 200));
  }
  await admin.disconnect();

  console.log(JSON.stringify({ brokers: cluster.brokers.length, read: seen.size, committed, high, afterTxn }));
}

main().then(() => process.exit(0)).catch(e => { console.error(e); process.exit(1); });
