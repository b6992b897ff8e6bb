/**
 * The npm package as a user gets it: `npm pack`, then `npm install -g` of that tarball into a
 * throwaway prefix with --offline and an empty npm cache, so nothing can come from the network. Its
 * bin must answer version and a cache-miss get (the SDK bundles are inside the package; it has no
 * dependencies to fetch).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json';
import { useFixture } from '../support/fixture';
import { REGISTRY, ROOT, runProcess } from '../support/helper';

const f = useFixture();
let work: string;
let bin: string;
let packed: { files: { path: string }[] }[];

describe('the npm package, packed and installed offline', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ecr-login-npm-'));
    const env = {
      PATH: process.env.PATH,
      HOME: work,
      npm_config_cache: join(work, 'npm-cache'),
      npm_config_update_notifier: 'false',
    };
    mkdirSync(join(work, 'pack'));
    // --ignore-scripts: the tarball is made from the dist/ the suite built, not rebuilt.
    const json = execFileSync(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', join(work, 'pack')],
      {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      },
    );
    packed = JSON.parse(json);
    const [tarball] = readdirSync(join(work, 'pack'));
    execFileSync(
      'npm',
      [
        'install',
        '-g',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--prefix',
        join(work, 'prefix'),
        join(work, 'pack', tarball),
      ],
      { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    bin = join(work, 'prefix', 'bin', 'docker-credential-ecr-login');
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the bundles, README and LICENSE, and nothing from node_modules or the tests', () => {
    const files = packed[0].files.map((file) => file.path).sort();
    expect(files).toEqual([
      'LICENSE',
      'README.md',
      'dist/aws-sdk.cjs',
      // V8's code for it, for the Node that built the package (used only on that Node).
      `dist/aws-sdk.cjs.node-${process.version}-${process.arch}.cache`,
      'dist/docker-credential-ecr-login.cjs',
      'dist/operator.cjs',
      'package.json',
    ]);
    const installed = join(work, 'prefix', 'lib', 'node_modules', ...packageJson.name.split('/'));
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
  });

  it('answers version', async () => {
    const run = await runProcess(bin, ['version'], { env: f.env() });
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toBe(`docker-credential-ecr-login (ecr-login) ${packageJson.version}\n`);
  });

  it('fetches a token on a cache miss from the fake ECR', async () => {
    const run = await runProcess(bin, ['get'], { input: REGISTRY, env: f.env() });
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(f.ecr.calls).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual({
      ServerURL: REGISTRY,
      Username: 'AWS',
      Secret: f.ecr.calls[0].passwords[0],
    });
  });
});
