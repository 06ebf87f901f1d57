/**
 * How PSKC ValueMACs are checked. 'fail' (default): one bad or missing ValueMAC, or an encrypted
 * value that nothing protects, and the whole file is refused (error pskc-mac, no seeds from it);
 * 'skip': keys with a bad ValueMAC are left out, each an error, but unprotected values still refuse
 * the file; 'allow-unprotected': as 'fail', except that encrypted values in a file with neither a
 * MACMethod nor ValueMACs are read, with a warning; 'off': MACs are not checked at all.
 */
export type PskcMacMode = 'fail' | 'skip' | 'allow-unprotected' | 'off';

export const PSKC_MAC_MODES: readonly PskcMacMode[] = ['fail', 'skip', 'allow-unprotected', 'off'];
