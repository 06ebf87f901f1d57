import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parsePhone, type PhoneResult } from './phone.js';

export interface PhoneInput {
  cc: string | undefined;
  number: string;
  ext: string | undefined;
}

/**
 * Parses phones in batches, either in this thread or in a worker thread. Phone validation is the
 * costliest part of reading a large users.csv (libphonenumber builds its regular expressions on
 * every call), so large exports validate phones on the other core while this one parses CSV.
 */
export interface PhoneBatchParser {
  parse(inputs: PhoneInput[]): Promise<PhoneResult[]>;
  close(): Promise<void>;
}

export function inlinePhoneParser(): PhoneBatchParser {
  return {
    parse: async (inputs) => inputs.map((i) => parsePhone(i.cc, i.number, i.ext)),
    close: async () => {},
  };
}

/** Batches spread round-robin over several worker-thread parsers. */
export function workerPhoneParsers(count: number): PhoneBatchParser {
  const parsers = Array.from({ length: Math.max(1, count) }, () => workerPhoneParser());
  let next = 0;
  return {
    parse: (inputs) => parsers[next++ % parsers.length]!.parse(inputs),
    close: async () => {
      await Promise.all(parsers.map((p) => p.close()));
    },
  };
}

/** A worker-thread parser, or the inline one where no compiled worker exists (tests from sources). */
export function workerPhoneParser(): PhoneBatchParser {
  const url = new URL('./phone-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return inlinePhoneParser();
  const worker = new Worker(url);
  worker.unref();
  const pending = new Map<number, { resolve: (r: PhoneResult[]) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let failure: unknown;
  worker.on('message', (msg: { id: number; results: PhoneResult[] }) => {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    p?.resolve(msg.results);
  });
  worker.on('error', (err) => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  return {
    parse(inputs) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, inputs });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
