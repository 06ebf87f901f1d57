import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StateHealth, type OutageEvent } from '../../../src/shim/postgres/state-health.js';

/**
 * The node's health of its PostgreSQL state, by its own seams: a fake probe, failures reported as
 * pg-state.ts reports them, and fake timers (the probe every second, the heartbeat every 5 s).
 */

/** A full disk as PostgreSQL refuses a changed row with it (SQLSTATE 53100); the probe, which writes no row, passes. */
const fullDisk = Object.assign(new Error('could not extend file "base/16384/16390": No space left on device'), { code: '53100', severity: 'ERROR' });
const connectionLost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });

function healthOf(probe: () => Promise<void> = async () => undefined) {
  const notices: string[] = [];
  const events: OutageEvent[] = [];
  const health = new StateHealth({ where: '--state postgres://db/mfa', probe, probeMs: 1000, heartbeatMs: 5000, onNotice: (m) => notices.push(m), onOutage: (e) => events.push(e) });
  health.start();
  return { health, notices, events };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StateHealth', () => {
  it('a full disk the probe cannot see, refusing a request every 6 s: one outage, said once (lost, then back when a change commits), not one per request', async () => {
    const { health, notices, events } = healthOf();
    for (let i = 0; i < 10; i++) {
      expect(health.accepting).toBe(true);
      health.failed(fullDisk, 'request');
      health.countRefused();
      expect(health.healthy).toBe(false);
      expect(health.accepting).toBe(false);
      // The probe passes a second later: requests try again (the trial), /healthz still 503.
      await vi.advanceTimersByTimeAsync(1000);
      expect(health.accepting).toBe(true);
      expect(health.healthy).toBe(false);
      // After a heartbeat of the trial with no failure, /healthz is 200 again: an idle node is let back in.
      await vi.advanceTimersByTimeAsync(5000);
      expect(health.healthy).toBe(true);
    }
    expect(events).toEqual([{ kind: 'lost', reason: expect.stringContaining('SQLSTATE 53100') }]);
    expect(notices).toEqual([expect.stringMatching(/^--state postgres:\/\/db\/mfa: PostgreSQL refused a statement \(SQLSTATE 53100: .*No space left on device\): the database's disk is full; answering state_unavailable until it is back$/)]);
    // The disk freed: the first change that commits ends it, with every refusal counted.
    health.committed();
    expect(events.slice(1)).toEqual([{ kind: 'back', seconds: 60, refused: 10, how: "a verification's change committed" }]);
    expect(notices.slice(1)).toEqual(["--state postgres://db/mfa: state is back after 60 s (a verification's change committed); 10 request(s) were answered state_unavailable meanwhile"]);
    expect(health.healthy).toBe(true);
    // Another refusal after the end is another outage, said again.
    health.failed(fullDisk, 'request');
    expect(events.map((e) => e.kind)).toEqual(['lost', 'back', 'lost']);
    health.close();
  });

  it('a quiet outage goes on being probed by the heartbeat: a loss the probe sees makes it unhealthy, and the probe getting through again ends it', async () => {
    let down = false;
    const { health, notices, events } = healthOf(async () => {
      if (down) throw connectionLost;
    });
    health.failed(fullDisk, 'request');
    await vi.advanceTimersByTimeAsync(6000);
    expect(health.healthy).toBe(true);
    down = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(health.healthy).toBe(false);
    expect(health.accepting).toBe(false);
    expect(notices[1]).toBe('--state postgres://db/mfa: still unavailable: terminating connection due to administrator command');
    down = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(health.healthy).toBe(true);
    expect(events.map((e) => e.kind)).toEqual(['lost', 'back']);
    expect(events[1]).toMatchObject({ how: 'reconnected' });
    health.close();
  });
});
