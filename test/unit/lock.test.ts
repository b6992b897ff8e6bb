import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, nextPollMs } from '../../src/cache/lock';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('acquireLock', () => {
  it('gives the lock to one holder at a time', async () => {
    const path = join(dir, 'a.lock');
    const first = await acquireLock(path, { waitMs: 100, staleMs: 10_000 });
    expect(first.kind).toBe('acquired');
    const second = await acquireLock(path, { waitMs: 100, staleMs: 10_000 });
    expect(second.kind).toBe('timeout');
    if (first.kind === 'acquired') first.lock.release();
    expect(existsSync(path)).toBe(false);
    expect((await acquireLock(path, { waitMs: 100, staleMs: 10_000 })).kind).toBe('acquired');
  });

  it('stops waiting as soon as the caller is satisfied', async () => {
    const path = join(dir, 'b.lock');
    await acquireLock(path, { waitMs: 100, staleMs: 10_000 });
    const readyAt = Date.now() + 300;
    const result = await acquireLock(path, {
      waitMs: 10_000,
      staleMs: 10_000,
      satisfied: () => Date.now() >= readyAt,
    });
    expect(result.kind).toBe('satisfied');
  });

  it('takes over at once a lock whose holder was killed', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const pid = child.pid!;
    const path = join(dir, 'c.lock');
    writeFileSync(path, `${pid} ${hostname()} ${readlinkSync('/proc/self/ns/pid')} ${Date.now()}`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const started = Date.now();
    const result = await acquireLock(path, { waitMs: 5_000, staleMs: 60_000 });
    expect(result.kind).toBe('acquired');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not judge a pid from another PID namespace (a container sharing the host name)', async () => {
    const path = join(dir, 'e.lock');
    // A pid that is dead here, in a namespace that is not ours.
    writeFileSync(path, `999999 ${hostname()} pid:[1] ${Date.now()}`);
    expect((await acquireLock(path, { waitMs: 50, staleMs: 60_000 })).kind).toBe('timeout');
    expect((await acquireLock(path, { waitMs: 1_000, staleMs: 200 })).kind).toBe('acquired');
  });

  it('takes over a lock from another host only once it is older than staleMs', async () => {
    const path = join(dir, 'd.lock');
    writeFileSync(path, `1 some-other-host ${Date.now()}`);
    expect((await acquireLock(path, { waitMs: 50, staleMs: 60_000 })).kind).toBe('timeout');
    expect((await acquireLock(path, { waitMs: 1_000, staleMs: 200 })).kind).toBe('acquired');
  });

  it('keeps a held lock alive with a heartbeat, so a slow holder is never taken for a dead one', async () => {
    const path = join(dir, 'f.lock');
    const held = await acquireLock(path, { waitMs: 100, staleMs: 250 });
    expect(held.kind).toBe('acquired');
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    await new Promise((r) => setTimeout(r, 300));
    expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(250);
    if (held.kind === 'acquired') held.lock.release();
  });

  it('takes over at once an empty lock left by a crash between create and write', async () => {
    const path = join(dir, 'g.lock');
    writeFileSync(path, '');
    const past = new Date(Date.now() - 5_000);
    utimesSync(path, past, past);
    expect((await acquireLock(path, { waitMs: 1_000, staleMs: 60_000 })).kind).toBe('acquired');
  });

  it('backs off from a few milliseconds to at most 250, with jitter', () => {
    expect(nextPollMs(0, 0)).toBeLessThanOrEqual(4);
    expect(nextPollMs(30, 0)).toBe(125);
    expect(nextPollMs(30, 1)).toBe(250);
    const spread = new Set(Array.from({ length: 20 }, () => nextPollMs(30)));
    expect(spread.size).toBeGreaterThan(1);
  });
});
