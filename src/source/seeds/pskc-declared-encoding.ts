import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The encoding a PSKC file's XML declaration names (`<?xml version="1.0" encoding="ISO-8859-1"?>`).
 * XML lets a document be written in any encoding it declares, and a vendor that writes Latin-1 says
 * so there: such a file is read in it (its secrets are Base64 ASCII; a `Société` in Manufacturer is
 * what is at stake) rather than refused as invalid UTF-8. An encoding this reader does not decode is
 * named in the refusal. UTF-16 is told from the bytes before this (the sniff), so a UTF-16 label on
 * a file written in UTF-8, as some tools leave it, is read as UTF-8; so is a single-byte label on a
 * file whose bytes are UTF-8 holding letters beyond ASCII (a tool that writes the declaration
 * blindly): read as Latin-1, `é` would become `Ã©` in every name, a user's UPN among them. Latin-1
 * text that is also valid UTF-8 with such letters would need `Ã` before a symbol at every accent.
 */
export type DeclaredEncoding =
  | { kind: 'utf8' }
  /** A single-byte encoding, decoded with TextDecoder under this label. */
  | { kind: 'single-byte'; label: 'windows-1252' | 'iso-8859-15' }
  | { kind: 'unsupported'; name: string };

const DECLARATION = /^\s*<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/;

/** WHATWG decodes ISO-8859-1 as windows-1252 too (the bytes 0x80-0x9F as Windows writes them). */
const SINGLE_BYTE: Readonly<Record<string, 'windows-1252' | 'iso-8859-15'>> = {
  'iso-8859-1': 'windows-1252',
  'iso8859-1': 'windows-1252',
  'iso_8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'latin-1': 'windows-1252',
  l1: 'windows-1252',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'iso-8859-15': 'iso-8859-15',
  latin9: 'iso-8859-15',
};

/** Read as UTF-8: UTF-8 itself, ASCII (a subset), and UTF-16 labels on UTF-8 bytes. */
const AS_UTF8 = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii', 'utf-16', 'utf16', 'utf-16le', 'utf-16be']);

export async function declaredEncoding(path: string): Promise<DeclaredEncoding> {
  const handle = await open(path, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
  // A UTF-8 byte-order mark says UTF-8 whatever the declaration names (XML 1.0, Appendix F).
  if (head.startsWith('\xEF\xBB\xBF')) return { kind: 'utf8' };
  const name = DECLARATION.exec(head)?.[2];
  if (name === undefined) return { kind: 'utf8' };
  const lower = name.toLowerCase();
  if (AS_UTF8.has(lower)) return { kind: 'utf8' };
  const label = SINGLE_BYTE[lower];
  if (label === undefined) return { kind: 'unsupported', name };
  return (await utf8BeyondAscii(path)) ? { kind: 'utf8' } : { kind: 'single-byte', label };
}

/** Whether the file is valid UTF-8 holding a byte beyond ASCII (read through once: only a file declaring a single-byte encoding is). */
async function utf8BeyondAscii(path: string): Promise<boolean> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let beyond = false;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      if (!beyond && chunk.some((b) => b >= 0x80)) beyond = true;
      decoder.decode(chunk, { stream: true });
    }
    decoder.decode();
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
  return beyond;
}
