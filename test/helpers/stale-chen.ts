import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { fakeGraph, type FakeGraph } from './graph.js';
import { planTo, tempDir } from './migration.js';
import { runMain } from './run-main.js';

/**
 * The set-up of the tests in which the tenant changes for chen after the plan (his token's serial
 * uploaded to zoe, or a new mobile phone), so that apply finds him stale.
 */
export const CHEN = '13fe1547-7700-52b0-999b-771890b24c5b';
export const ZOE = 'c247f1a8-727a-5bdd-803d-979e129e2e1d';
/** Chen's hardware token, which the Contoso plan creates. */
export const SERIAL = '20010006';
export const DEVICES = '/beta/directory/authenticationMethodDevices/hardwareOathDevices';

export interface PlannedContoso {
  g: FakeGraph;
  planFile: string;
  /** A path in the describe block's temp dir. */
  file(name: string): string;
  /** A new state dir for each call. */
  stateDir(): string;
}

/**
 * A Contoso plan made once for the describe block it is called in (its temp dir removed after it),
 * with the fake Graph reset before each test: the fields are set in its beforeAll.
 */
export function plannedContoso(prefix: string): PlannedContoso {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let n = 0;
  const file = (name: string) => join(tmp!.dir, name);
  const planned = { file, stateDir: () => file(`state-${++n}`) } as PlannedContoso;
  beforeAll(async () => {
    tmp = tempDir(prefix);
    planned.g = fakeGraph();
    planned.planFile = file('contoso.plan');
    await planTo(planned.g, planned.planFile);
  }, 60_000);
  afterAll(() => tmp?.cleanup());
  beforeEach(() => planned.g.emu.reset());
  return planned;
}

/** An admin uploads chen's serial to zoe after the plan; its id. */
export async function uploadToZoe(g: FakeGraph): Promise<string> {
  const res = await g.raw.post(DEVICES, { serialNumber: SERIAL, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', manufacturer: 'Contoso', model: 'T', assignTo: { id: ZOE } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** An admin gives chen a mobile phone after the plan (the plan saw none). */
export async function newMobileForChen(g: FakeGraph): Promise<void> {
  expect((await g.raw.post(`/v1.0/users/${CHEN}/authentication/phoneMethods`, { phoneNumber: '+1 4255550199', phoneType: 'mobile' })).status).toBe(201);
}

/** `report RUN --state-dir DIR ...more`, which must succeed: its stdout. */
export async function reportOf(runId: string, stateDir: string, ...more: string[]): Promise<string> {
  const r = await runMain(['report', runId, '--state-dir', stateDir, ...more]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}
