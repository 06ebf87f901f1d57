import { hostname, userInfo } from 'node:os';
import { toolVersion } from '../io/tool-version.js';

/**
 * Who ran a pass of a run, beside who signed in to Graph: the tool's version, the operating-system
 * account and the machine. An auditor proves with it which mfa-migrate applied a plan, and from where
 * (an app-only sign-in names only an application; the lock that named the account is gone after the run).
 */
export interface Operator {
  toolVersion: string;
  osUser: string;
  host: string;
}

export function currentOperator(): Operator {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    // An account with no name (a container's bare uid).
    osUser = `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { toolVersion: toolVersion(), osUser, host: hostname() };
}
