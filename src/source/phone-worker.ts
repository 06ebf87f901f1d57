import { parentPort } from 'node:worker_threads';
import { parsePhone } from './phone.js';
import type { PhoneInput } from './phone-batch.js';

// Worker side of workerPhoneParser: parse each batch and post the results back in order.
parentPort!.on('message', (msg: { id: number; inputs: PhoneInput[] }) => {
  parentPort!.postMessage({ id: msg.id, results: msg.inputs.map((i) => parsePhone(i.cc, i.number, i.ext)) });
});
