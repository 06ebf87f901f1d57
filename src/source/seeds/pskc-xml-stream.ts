import { createReadStream } from 'node:fs';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { shownValue } from '../../model/shown-value.js';
import { declaredEncoding } from './pskc-declared-encoding.js';

/**
 * Streams a PSKC document and hands over each child of the KeyContainer (EncryptionKey, MACMethod,
 * KeyPackage, ...) as a small element tree once it is complete, so memory stays flat however many
 * KeyPackages the file holds.
 *
 * Safety: any DOCTYPE refuses the document (no external entities, no entity expansion bombs; saxes
 * never fetches anything and knows only the five predefined entities anyway), and the byte count is
 * capped. Namespaces are resolved here rather than by saxes (`xmlns: false` is ~20% faster); line
 * numbers are counted here too for the same reason (saxes position tracking costs ~30%).
 */

export const PSKC_NAMESPACE = 'urn:ietf:params:xml:ns:keyprov:pskc';

/**
 * The container namespaces of the drafts before RFC 6030, as token shipments still use them:
 * draft-ietf-keyprov-pskc (…:pskc:1.0; its -02 also wrote RFC 6030's own namespace),
 * draft-hoyer-keyprov-portable-symmetric-key-container (…:container:1.0 as ActivIdentity writes it,
 * …:container in its -01), and the OATH namespace of its -00 (root SecretContainer).
 */
export const DRAFT_NAMESPACES: readonly string[] = [
  'urn:ietf:params:xml:ns:keyprov:pskc:1.0',
  'urn:ietf:params:xml:ns:keyprov:container:1.0',
  'urn:ietf:params:xml:ns:keyprov:container',
  'http://www.openauthentication.org/OATH/2006/08/PSKC',
  'http://www.openauthentication.org/OATH/2006/10/PSKC',
];

export interface XmlElement {
  /** Local name (prefix removed). */
  name: string;
  /** True when the element is in the document's PSKC namespace (the KeyContainer's). */
  inPskc: boolean;
  /** The namespace ('' for none) of a KeyContainer child that is not in the PSKC namespace, to say where it is. */
  namespace?: string;
  /** Attributes as written (qualified names). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text content; only kept for elements without child elements. */
  text: string;
  /**
   * 1-based line of the start tag (its end, when its attributes span lines), on every element: a
   * problem names the line of the element at fault, not its KeyPackage's. Counting it costs little:
   * line ends are counted once, whoever asks (docs/benchmarks.md measures it).
   */
  line: number;
}

export interface PskcRoot {
  /** KeyContainer, or SecretContainer (the first draft). */
  name: string;
  /** As written, prefix and all (`pskc:KeyContainer`). */
  qname: string;
  namespace: string;
  attrs: Record<string, string>;
  line: number;
}

export type PskcStreamFailureKind = 'invalid' | 'unsafe' | 'not-pskc';

/** Where in the document a stream error is: the element path (below the KeyContainer) and the element or attribute. */
export interface PskcStreamPlace {
  path?: string;
  field?: string;
}

/** The document cannot be read further. Messages name the problem, never document content. */
export class PskcStreamError extends Error {
  constructor(
    readonly kind: PskcStreamFailureKind,
    message: string,
    readonly line?: number,
    readonly place: PskcStreamPlace = {},
  ) {
    super(message);
    this.name = 'PskcStreamError';
  }
}

export interface PskcStreamHandler {
  /** Called once, at the root start tag. Throw to stop. */
  root(root: PskcRoot): void;
  /**
   * Called with each KeyContainer child as soon as it is complete, in document order, so that its
   * tree dies young (keeping a chunk's worth of trees alive costs a lot of GC). It may return a
   * promise (to derive a key, once); elements completed meanwhile wait, in order, until it settles.
   */
  element(el: XmlElement): Promise<void> | void;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Caps on the shape of the document, checked while streaming: each KeyContainer child is held as a
 * tree until it is complete, so without them one hostile KeyPackage of 50 million elements (or text
 * nodes of hundreds of MB, or nesting a million deep) would take the process's memory. Real PSKC
 * files nest about 8 deep, hold a dozen children per element and some hundred elements and a few
 * kB of text per KeyPackage; the defaults leave wide room.
 */
export interface PskcLimits {
  /** Element nesting, the KeyContainer being depth 1. */
  maxDepth: number;
  /** Child elements of any one element below the KeyContainer. */
  maxChildren: number;
  /** Elements in one KeyContainer child (a KeyPackage, a Signature), itself included. */
  maxElements: number;
  /** Characters of one text node, and of all the text kept in one KeyContainer child. */
  maxText: number;
}

export const DEFAULT_PSKC_LIMITS: PskcLimits = { maxDepth: 32, maxChildren: 1_000, maxElements: 10_000, maxText: 1 << 20 };

/** Shared by all leaf elements (most of them): saves an array per element. Never mutated. */
const NO_CHILDREN: XmlElement[] = [];

/** Reads `path` through saxes, calling `handler`. Throws PskcStreamError for XML problems. */
export async function streamPskc(path: string, maxBytes: number, handler: PskcStreamHandler, limits: PskcLimits = DEFAULT_PSKC_LIMITS): Promise<void> {
  const parser = new SaxesParser({ xmlns: false, position: false });
  const { maxDepth, maxChildren, maxElements, maxText } = limits;
  /** Elements and text characters in the KeyContainer child being built. */
  let treeElements = 0;
  let treeText = 0;

  // Line tracking over the decoded text: line ends are counted lazily up to the positions asked for.
  // LF, CRLF and a CR alone (old Mac files) each end a line: a CR is counted, and an LF unless a CR
  // is just before it (in this chunk or at the end of the one before).
  let chunk = '';
  let chunkStart = 0; // absolute index of chunk[0] in the decoded text
  let scanned = 0; // index within chunk up to which line ends are counted
  let linesBefore = 1; // line number at chunk[scanned]
  let crBefore = false; // the chunk before this one ended in a CR
  let nextCr = -2; // index of the next CR in chunk from `scanned` on; -1 none, -2 not looked for yet
  const setChunk = (s: string): void => {
    crBefore = chunk.endsWith('\r');
    chunk = s;
    scanned = 0;
    nextCr = -2;
  };
  const lineAt = (absolute: number): number => {
    const upto = Math.min(Math.max(absolute - chunkStart, scanned), chunk.length);
    let i = chunk.indexOf('\n', scanned);
    while (i !== -1 && i < upto) {
      if (!(i === 0 ? crBefore : chunk.charCodeAt(i - 1) === 13)) linesBefore++;
      i = chunk.indexOf('\n', i + 1);
    }
    // Most files hold no CR but in CRLFs: one look per chunk finds none, or the first.
    if (nextCr === -2 || (nextCr !== -1 && nextCr < scanned)) nextCr = chunk.indexOf('\r', scanned);
    while (nextCr !== -1 && nextCr < upto) {
      linesBefore++;
      nextCr = chunk.indexOf('\r', nextCr + 1);
    }
    scanned = upto;
    return linesBefore;
  };

  // Namespace bindings: copied on write, so a lookup is one property read; the default namespace
  // (most names have no prefix) is kept apart. The bindings an element replaced are put back at its
  // end tag, so only elements that declare namespaces cost anything.
  let bindings: Record<string, string> = Object.create(null) as Record<string, string>;
  bindings.xml = 'http://www.w3.org/XML/1998/namespace';
  let defaultNs: string | undefined;
  const scopes: { depth: number; bindings: Record<string, string>; defaultNs: string | undefined }[] = [];

  let pskcNs: string | undefined;
  let rootName = '';
  let depth = 0;
  const open: XmlElement[] = [];
  /** Key packages (KeyPackage, the drafts' Device) begun so far, so that a problem's path names one as the reader does. */
  let packages = 0;
  /** Where the parser is: the open elements below the KeyContainer (KeyPackage[3]/Key/Data), and the innermost. */
  const place = (): PskcStreamPlace => {
    if (depth === 0) return {};
    if (open.length === 0) return { field: rootName };
    const names = open.map((e, i) => (i === 0 && isPackage(e) ? `${e.name}[${packages}]` : e.name));
    return { path: names.join('/'), field: open[open.length - 1]!.name };
  };
  let text = '';
  let pending: Promise<void> | undefined;
  const waiting: XmlElement[] = [];
  const deliver = (el: XmlElement): void => {
    if (pending !== undefined) {
      waiting.push(el);
      return;
    }
    const r = handler.element(el);
    if (r !== undefined) {
      // Awaited after the current chunk; the catch only stops an "unhandled rejection" should a parse
      // error end the chunk first.
      r.catch(() => undefined);
      pending = r;
    }
  };
  const settle = async (): Promise<void> => {
    while (pending !== undefined) {
      const p = pending;
      pending = undefined;
      await p;
      let i = 0;
      while (i < waiting.length && pending === undefined) deliver(waiting[i++]!);
      waiting.splice(0, i);
    }
  };

  const fail = (kind: PskcStreamFailureKind, message: string): never => {
    throw new PskcStreamError(kind, message, lineAt(parser.position), place());
  };

  parser.on('doctype', (doctype: string) => {
    // Reported once it has ended: placed where it starts, its own line breaks (saxes hands them over
    // as LFs, whatever the file's) counted back from there.
    const start = lineAt(parser.position) - (doctype.match(/\n/g)?.length ?? 0);
    throw new PskcStreamError('unsafe', 'the document has a DOCTYPE declaration; PSKC files never need one and it is refused (no DTDs or entities are processed)', start, place());
  });
  // saxes closes the element a wrong end tag stands for (`</Kee>` for `<Key>`) before it reports the
  // end tag: the problem is placed at that element, not at its parent.
  let lastClosed: XmlElement | undefined;
  parser.on('error', (err) => {
    const at = place();
    if (err.message.includes('unexpected close tag') && lastClosed !== undefined) {
      const name = lastClosed.name;
      throw new PskcStreamError('invalid', `not well-formed XML: ${err.message}`, lineAt(parser.position), { path: at.path === undefined ? name : `${at.path}/${name}`, field: name });
    }
    fail('invalid', `not well-formed XML: ${err.message}`);
  });
  // Namespace declarations are rare: note them per attribute so that opentag walks attributes only then.
  let declares = false;
  parser.on('attribute', (a) => {
    if (a.name.startsWith('xmlns')) declares = true;
  });
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const attrs = tag.attributes;
    if (declares) {
      declares = false;
      let copied = false;
      for (const a in attrs) {
        if (a === 'xmlns' || a.startsWith('xmlns:')) {
          if (!copied) {
            scopes.push({ depth, bindings, defaultNs });
            bindings = Object.assign(Object.create(null), bindings) as Record<string, string>;
            copied = true;
          }
          bindings[a === 'xmlns' ? '' : a.slice(6)] = attrs[a]!;
        }
      }
      defaultNs = bindings[''];
    }
    if (depth >= maxDepth) fail('unsafe', `elements are nested more than ${maxDepth} deep; no PSKC file needs that`);
    const qname = tag.name;
    const colon = qname.indexOf(':');
    const local = colon === -1 ? qname : qname.slice(colon + 1);
    const ns = colon === -1 ? defaultNs : bindings[qname.slice(0, colon)];
    if (ns === undefined && colon !== -1) fail('invalid', `unbound namespace prefix ${shownValue(qname.slice(0, colon))}`);

    if (depth === 0) {
      if (local !== 'KeyContainer' && local !== 'SecretContainer') fail('not-pskc', `the XML root element is ${shownValue(local)}, not a PSKC KeyContainer`);
      const namespace = ns ?? '';
      if (namespace !== PSKC_NAMESPACE && namespace !== '' && !DRAFT_NAMESPACES.includes(namespace)) {
        fail('not-pskc', `the ${shownValue(local)} is in namespace ${shownValue(namespace)}, not RFC 6030's ${PSKC_NAMESPACE} (nor one of its drafts')`);
      }
      pskcNs = namespace;
      rootName = local;
      handler.root({ name: local, qname, namespace, attrs, line: lineAt(parser.position) });
    } else {
      const inPskc = (ns ?? '') === pskcNs;
      if (depth === 1) {
        if ((local === 'KeyPackage' || local === 'Device') && inPskc) packages++;
      }
      const el: XmlElement = {
        name: local,
        inPskc,
        attrs,
        children: NO_CHILDREN,
        text: '',
        // The line of the start tag's end: where it starts, unless its attributes span lines.
        line: lineAt(parser.position),
      };
      if (depth === 1 && !inPskc) el.namespace = ns ?? '';
      if (depth === 1) {
        treeElements = 0;
        treeText = 0;
      } else {
        const parent = open[open.length - 1]!;
        if (parent.children === NO_CHILDREN) parent.children = [el];
        else if (parent.children.length >= maxChildren) fail('unsafe', `an element has more than ${maxChildren} child elements; no PSKC file needs that`);
        else parent.children.push(el);
      }
      if (++treeElements > maxElements) fail('unsafe', `a KeyContainer child (a KeyPackage, say) holds more than ${maxElements} elements; no PSKC file needs that`);
      open.push(el);
    }
    depth++;
    text = '';
    if (!listening) {
      parser.on('text', onText);
      listening = true;
    }
  });
  // Text is listened to only from a start tag to the next tag: after an end tag comes either the
  // parent's end or the next sibling, and a parent's text is never kept (it has child elements), so
  // the whitespace between elements (most of the text in a file) is not even collected. saxes
  // collects no text, entities included, while no handler is set.
  const onText = (t: string): void => {
    text += t;
    treeText += t.length;
    if (text.length > maxText || treeText > maxText) tooMuchText();
  };
  const tooMuchText = (): never => fail('unsafe', `a KeyContainer child (a KeyPackage, say) holds more than ${maxText} characters of text; no PSKC file needs that`);
  let listening = false;
  parser.on('cdata', (t) => {
    text += t;
    treeText += t.length;
    if (text.length > maxText || treeText > maxText) tooMuchText();
  });
  parser.on('closetag', () => {
    if (listening) {
      parser.off('text');
      listening = false;
    }
    depth--;
    const scope = scopes[scopes.length - 1];
    if (scope !== undefined && scope.depth === depth) {
      scopes.pop();
      bindings = scope.bindings;
      defaultNs = scope.defaultNs;
    }
    if (depth === 0) return;
    const el = open.pop()!;
    lastClosed = el;
    if (el.children.length === 0) el.text = text;
    text = '';
    if (depth === 1) deliver(el);
  });

  // saxes buffers a text node (or a tag) whole before handing it on, so the text caps above would
  // only be checked once the whole stretch is in memory: the stretch between two '<' is measured
  // here, across chunks, before the parser sees it. (Inside one chunk a stretch is at most a chunk.)
  let run = 0;
  const maxRun = maxText + 4096; // a text node and the tag before it
  const measure = (s: string): void => {
    const first = s.indexOf('<');
    if (first === -1) {
      run += s.length;
      if (run > maxRun) tooMuchTextAt(chunkStart + s.length);
    } else {
      if (run + first > maxRun) tooMuchTextAt(chunkStart + first);
      run = s.length - s.lastIndexOf('<') - 1;
    }
  };
  const tooMuchTextAt = (absolute: number): never => {
    throw new PskcStreamError('unsafe', `the file holds a text or tag of more than ${maxText} characters; no PSKC file needs that`, lineAt(absolute));
  };

  const feed = async (s: string): Promise<void> => {
    setChunk(s);
    measure(s);
    parser.write(s);
    lineAt(chunkStart + s.length);
    chunkStart += s.length;
    await settle();
  };

  const encoding = await declaredEncoding(path);
  if (encoding.kind === 'unsupported') {
    throw new PskcStreamError('invalid', `the file declares the encoding ${shownValue(encoding.name)}, which is not read here: save it as UTF-8 (or ISO-8859-1) and try again`, 1);
  }
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  // Node's StringDecoder (setEncoding) is ~2x faster than a fatal TextDecoder; it turns invalid
  // UTF-8 into U+FFFD, which a PSKC file has no reason to contain, so that is what is checked.
  // A single-byte encoding the file declares decodes every byte, chunk by chunk.
  const singleByte = encoding.kind === 'single-byte' ? new TextDecoder(encoding.label) : undefined;
  if (singleByte === undefined) stream.setEncoding('utf8');
  try {
    let first = true;
    for await (const read of stream as AsyncIterable<string | Buffer>) {
      let s = typeof read === 'string' ? read : singleByte!.decode(read, { stream: true });
      if (first) {
        first = false;
        // Blank lines or spaces before the XML declaration (a file pasted from an RFC's figure) are
        // not well-formed XML, but nothing hides there: they are skipped, their lines still counted.
        const lead = /^\uFEFF?\s+(?=<\?xml[\s?])/.exec(s);
        if (lead !== null) {
          linesBefore += lead[0].match(/\r\n?|\n/g)?.length ?? 0;
          s = s.slice(lead[0].length);
        }
      }
      if (stream.bytesRead > maxBytes) {
        throw new PskcStreamError('unsafe', `the file is larger than the ${maxBytes}-byte limit for PSKC files`);
      }
      const bad = s.indexOf('\uFFFD');
      if (bad !== -1) {
        // Parsed up to the bad byte, so that the problem names the element it is in (and an earlier
        // problem in the document, if any, is the one reported).
        await feed(s.slice(0, bad));
        throw new PskcStreamError('invalid', 'the file is not valid UTF-8 text', lineAt(chunkStart), place());
      }
      await feed(s);
    }
    setChunk('');
    parser.close();
    await settle();
    if (pskcNs === undefined) throw new PskcStreamError('invalid', 'the document has no root element');
  } finally {
    stream.destroy();
  }
}

/** A key package: RFC 6030's KeyPackage, or the drafts' Device. */
function isPackage(el: XmlElement): boolean {
  return el.inPskc && (el.name === 'KeyPackage' || el.name === 'Device');
}

/** The first child with this local name in the PSKC namespace. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (el === undefined) return undefined;
  for (const c of el.children) if (c.name === name && c.inPskc) return c;
  return undefined;
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name && c.inPskc);
}

/**
 * The first child with this local name in any namespace: XML Encryption, XML Signature and PKCS #5
 * elements appear under several namespaces (RFC 6030 Figure 7 even puts `Salt` in none).
 */
export function childAny(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (el === undefined) return undefined;
  for (const c of el.children) if (c.name === name) return c;
  return undefined;
}

/** An attribute by local name, whatever prefix it was written with. */
export function attr(el: XmlElement | undefined, name: string): string | undefined {
  if (el === undefined) return undefined;
  const direct = el.attrs[name];
  if (direct !== undefined) return direct;
  for (const a in el.attrs) if (a.endsWith(`:${name}`) && !a.startsWith('xmlns:')) return el.attrs[a];
  return undefined;
}

/**
 * A copy of `s` that does not keep the parser's 1 MiB input chunk alive: V8 makes substrings of 13+
 * characters views into their parent, so a kept UserId would otherwise pin a whole chunk. Strings
 * that are kept beyond the current KeyPackage go through this.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/** Interns repeated values (Manufacturer, Model): one detached copy per distinct value. */
export class StringPool {
  readonly #seen = new Map<string, string>();

  get(s: string): string {
    let v = this.#seen.get(s);
    if (v === undefined) {
      v = ownString(s);
      this.#seen.set(v, v);
    }
    return v;
  }
}
