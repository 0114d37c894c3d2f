"""librdkafka (confluent-kafka) transactions against a cluster: commit, abort, commit, then read back with
librdkafka's default isolation (read_committed). Prints what the reader saw as one JSON list.

Usage: transactions.py BOOTSTRAP TOPIC
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer

bootstrap, topic = sys.argv[1], sys.argv[2]

producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "librdkafka-txn"})
print("init", file=sys.stderr, flush=True)
producer.init_transactions(60)


def transaction(prefix, count, commit):
    print("transaction %s" % prefix, file=sys.stderr, flush=True)
    producer.begin_transaction()
    for i in range(count):
        producer.produce(topic, key="k%d" % i, value="%s-%d" % (prefix, i))
    if commit:
        producer.commit_transaction(60)
    else:
        producer.flush(60)
        producer.abort_transaction(60)


transaction("committed", 10, True)
transaction("aborted", 10, False)
transaction("again", 5, True)

consumer = Consumer(
    {
        "bootstrap.servers": bootstrap,
        "group.id": "librdkafka-reader",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
)
consumer.subscribe([topic])
print("reading", file=sys.stderr, flush=True)
seen = []
deadline = time.time() + 60
while len(seen) < 15 and time.time() < deadline:
    message = consumer.poll(0.5)
    if message is not None and not message.error():
        seen.append(message.value().decode())
# Anything beyond the 15 committed records would show here.
settle = time.time() + 2
while time.time() < settle:
    message = consumer.poll(0.2)
    if message is not None and not message.error():
        seen.append(message.value().decode())
consumer.close()
print(json.dumps(seen))
