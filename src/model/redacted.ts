import { inspect } from 'node:util';

/**
 * A base for objects holding secret material (a seed, HMAC key blocks, OTP values): printing,
 * logging, JSON.stringify, template strings and util.inspect give only `label`, never the contents.
 */
export function Redacted(label: string) {
  return class {
    toString(): string {
      return label;
    }

    toJSON(): string {
      return label;
    }

    [inspect.custom](): string {
      return label;
    }
  };
}
