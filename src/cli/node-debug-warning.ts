/**
 * NODE_DEBUG is Node's own tracing, outside mfa-migrate's control: with `stream` among its names,
 * Node prints the chunks the CSV reader passes on, seeds and phone numbers included, to stderr (other
 * names may trace other internals). Said whenever it is set, once, before anything is read, so that
 * whoever set it on a real export knows stderr may now carry secrets.
 */
export function nodeDebugWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const names = env.NODE_DEBUG?.trim();
  if (!names) return undefined;
  return `warning: NODE_DEBUG is set (${names.slice(0, 80)}): Node's own debug output on stderr can print what mfa-migrate reads, seeds, keys and phone numbers included; unset it before using real data`;
}
