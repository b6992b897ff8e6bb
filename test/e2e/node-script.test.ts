/**
 * The npm package's bin, `node dist/docker-credential-ecr-login.cjs`, which the rest of the suite
 * does not run (it drives the single executable): its lazily required bundles must be found beside
 * it, and a cache hit must load none of them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeSts } from '../fakes';
import { useFixture } from '../support/fixture';
import { REGISTRY, ROOT, runProcess } from '../support/helper';

const SCRIPT = join(ROOT, 'dist', 'docker-credential-ecr-login.cjs');
const f = useFixture();

/**
 * Run the node script, recording which files it loaded (require.cache at exit) and which of Node's
 * public built-in modules (process.moduleLoadList).
 */
async function runScript(args: string[], input: string, env: NodeJS.ProcessEnv) {
  const record = join(f.box.home, 'record-loaded.cjs');
  const loadedFile = join(f.box.home, `loaded-${Date.now()}-${Math.random()}.json`);
  writeFileSync(
    record,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loadedFile)}, JSON.stringify({
      files: Object.keys(require.cache),
      builtins: process.moduleLoadList.filter((m) => /^NativeModule [a-z]/.test(m)).map((m) => m.slice(13)),
    })));`,
  );
  const run = await runProcess(process.execPath, ['--require', record, SCRIPT, ...args], { env, input });
  const { files, builtins } = JSON.parse(readFileSync(loadedFile, 'utf8')) as {
    files: string[];
    builtins: string[];
  };
  return { ...run, loaded: files.map((p) => p.split('/').pop()!), builtins };
}

describe('node dist/docker-credential-ecr-login.cjs', () => {
  it('loads the SDK bundle on a miss and nothing but itself on a hit', async () => {
    const miss = await runScript(['get'], REGISTRY, f.env());
    expect(miss.status).toBe(0);
    expect(JSON.parse(miss.stdout).Secret).toBe(f.ecr.calls[0].passwords[0]);
    // The SDK bundle beside it ran, through the loader that uses V8's code for it (node:vm).
    expect(miss.builtins).toContain('vm');
    // The SDK's HTTP/2 handler is left out of the bundle, and with it Node's http2 module.
    expect(miss.builtins).toEqual(expect.arrayContaining(['http', 'https', 'crypto']));
    expect(miss.builtins).not.toContain('http2');

    const hit = await runScript(['get'], REGISTRY, f.env());
    expect(hit.status).toBe(0);
    expect(f.ecr.calls).toHaveLength(1);
    expect(hit.loaded.filter((file) => file.endsWith('.cjs') && file !== 'record-loaded.cjs')).toEqual([
      'docker-credential-ecr-login.cjs',
    ]);
    // Nor the single executable's loader for its embedded SDK (src/embedded.ts).
    expect(hit.builtins).not.toContain('vm');
  });

  it('finds the operator and doctor bundles beside it', async () => {
    const policy = await runScript(['policy'], '', f.env());
    expect(policy.status).toBe(0);
    expect(policy.loaded).toContain('operator.cjs');
    const sts = await startFakeSts();
    f.stopLater(() => sts.close());
    const doctor = await runScript(
      ['doctor', REGISTRY, '--json'],
      '',
      f.env({ AWS_ENDPOINT_URL_STS: sts.url }),
    );
    expect(JSON.parse(doctor.stdout)).toMatchObject({ host: REGISTRY, token: { ok: true } });
    expect(sts.calls.map((c) => c.action)).toEqual(['GetCallerIdentity']);
    expect(doctor.loaded).toContain('operator.cjs');
  });
});
