// Fake Docker Engine API on a unix socket, enough for the real docker CLI (client 28.2.2, API 1.50)
// to run `docker pull`, `docker login` and `docker logout`: point it here with
// DOCKER_HOST=unix://<dir>/docker.sock. No registry is contacted; the engine only records what the
// CLI would have handed to a daemon, which is what a credential helper's output turns into.
//
// Observed by running the real CLI against this fake with a throwaway DOCKER_CONFIG (see
// docker-engine.test.ts, which keeps these facts checked):
//
// Engine endpoints hit (Host header is "api.moby.localhost", User-Agent "Docker-Client/28.2.2 (linux)"):
//   docker pull IMAGE    HEAD /_ping, then POST /v1.50/images/create?fromImage=<repo>&tag=<tag>
//                        with X-Registry-Auth and an empty body. `alpine` arrives as
//                        fromImage=docker.io/library/alpine&tag=latest.
//   docker login HOST    HEAD /_ping, then POST /v1.50/auth with JSON
//                        {"username","password","serveraddress"}.
//   docker logout HOST   no engine traffic at all.
// The API version in the path comes from the Api-Version header of the /_ping reply.
//
// X-Registry-Auth is base64url (padded) JSON. For an anonymous pull (no auths, no helper) it is
// exactly "e30=", i.e. "{}". With a credential helper it is
// {"username":"AWS","password":"<Secret>","serveraddress":"<host>"}.
//
// Credential-helper calls for registry HOST configured in credHelpers:
//   docker pull HOST/app:1                        get  (stdin "HOST"). If get exits non-zero the
//     pull goes ahead anonymously (X-Registry-Auth "e30="), exit code unaffected; the helper's
//     stderr reaches the user, its stdout does not.
//   docker login HOST                             get, then /auth, then store
//     (stdin of store: {"ServerURL":"HOST","Username":"AWS","Secret":"<secret from get>"})
//   docker login -u AWS --password-stdin HOST     no get; /auth, then store with the given password
//   docker logout HOST                            erase TWICE (stdin "HOST" both times), consistent
//     with the CLI erasing the address as given, its hostname, and http:// and https:// forms, of
//     which only the bare name maps to the helper.
//   docker logout https://HOST                    erase once.
// The CLI rewrites config.json on login/logout (it adds an empty "auths": {}).
// A failing `store` (docker-credential-ecr-login answers "not implemented") fails the login even
// though the engine accepted the credentials:
//   --password-stdin: exit 1, "Error saving credentials: error storing credentials - err: exit status 1, out: `...`"
//   plain `docker login HOST`: the store error is swallowed, the CLI falls back to prompting and
//     exits 1 with "Cannot perform an interactive login from a non TTY device". The same happens
//     when the engine refuses the stored credentials.
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { manage, readBody, sendJson } from './server';

export const FAKE_API_VERSION = '1.50';

export interface DockerRequest {
  method: string | undefined;
  /** Path without the query string and without the /v1.xx prefix. */
  path: string;
  /** e.g. "1.50", or undefined for unversioned paths such as /_ping. */
  apiVersion: string | undefined;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
}

export interface DockerPull {
  fromImage: string | undefined;
  tag: string | undefined;
  /** X-Registry-Auth exactly as sent, or undefined if absent. */
  registryAuth: string | undefined;
  /** The header decoded as base64url JSON ({} for an anonymous pull). */
  auth: Record<string, unknown> | undefined;
}

export interface DockerLogin {
  body: string;
  auth: Record<string, unknown> | undefined;
}

export type DockerFailure = { status?: number; message: string };
/**
 * A failure with a status is an HTTP error before any progress; without one it arrives inside the
 * JSON progress stream, like a daemon that failed mid-pull. Either way `docker pull` exits 1.
 */
export type DockerPullBehaviour = 'ok' | DockerFailure | ((pull: DockerPull) => 'ok' | DockerFailure);
export type DockerLoginBehaviour = 'ok' | DockerFailure | ((login: DockerLogin) => 'ok' | DockerFailure);

export interface FakeDockerEngine {
  socketPath: string;
  /** Value for DOCKER_HOST. */
  host: string;
  requests: DockerRequest[];
  pulls: DockerPull[];
  logins: DockerLogin[];
  setPullBehaviour(behaviour: DockerPullBehaviour): void;
  setLoginBehaviour(behaviour: DockerLoginBehaviour): void;
  close(): Promise<void>;
}

export async function startFakeDockerEngine(dir: string): Promise<FakeDockerEngine> {
  const socketPath = join(dir, 'docker.sock');
  const requests: DockerRequest[] = [];
  const pulls: DockerPull[] = [];
  const logins: DockerLogin[] = [];
  let pullBehaviour: DockerPullBehaviour = 'ok';
  let loginBehaviour: DockerLoginBehaviour = 'ok';

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  const lifecycle = manage(server);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://engine.invalid');
    const versioned = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const record: DockerRequest = {
      method: req.method,
      path: versioned ? versioned[2] : url.pathname,
      apiVersion: versioned?.[1],
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      status: 0,
    };
    requests.push(record);
    const json = (status: number, value: unknown): void => {
      record.status = status;
      sendJson(res, status, value, ENGINE_HEADERS);
    };

    const route = `${req.method} ${record.path}`;
    if (route === 'GET /_ping' || route === 'HEAD /_ping') {
      record.status = 200;
      res.writeHead(200, {
        ...ENGINE_HEADERS,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': '2',
        'Cache-Control': 'no-cache, no-store, must-revalidate',
        Pragma: 'no-cache',
        'Builder-Version': '2',
        Swarm: 'inactive',
      });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (route === 'GET /version') {
      return json(200, {
        Version: '28.2.2',
        ApiVersion: FAKE_API_VERSION,
        MinAPIVersion: '1.24',
        Os: 'linux',
        Arch: 'amd64',
        KernelVersion: 'fake',
        Components: [{ Name: 'Engine', Version: '28.2.2', Details: { ApiVersion: FAKE_API_VERSION } }],
      });
    }
    if (route === 'POST /images/create') {
      const registryAuth = req.headers['x-registry-auth'] as string | undefined;
      const pull: DockerPull = {
        fromImage: record.query.fromImage,
        tag: record.query.tag,
        registryAuth,
        auth: decodeJson(
          registryAuth === undefined ? undefined : Buffer.from(registryAuth, 'base64url').toString(),
        ),
      };
      pulls.push(pull);
      const outcome = typeof pullBehaviour === 'function' ? pullBehaviour(pull) : pullBehaviour;
      if (outcome !== 'ok' && outcome.status !== undefined)
        return json(outcome.status, { message: outcome.message });
      return streamPull(res, record, pull, outcome === 'ok' ? undefined : outcome.message);
    }
    if (route === 'POST /auth') {
      const login: DockerLogin = { body, auth: decodeJson(body) };
      logins.push(login);
      const outcome = typeof loginBehaviour === 'function' ? loginBehaviour(login) : loginBehaviour;
      if (outcome !== 'ok') return json(outcome.status ?? 401, { message: outcome.message });
      return json(200, { Status: 'Login Succeeded', IdentityToken: '' });
    }
    json(404, { message: `page not found: ${req.method} ${req.url} (not implemented by the fake engine)` });
  }

  // A stale socket file from a crashed run would make listen fail with EADDRINUSE.
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    socketPath,
    host: `unix://${socketPath}`,
    requests,
    pulls,
    logins,
    setPullBehaviour(next) {
      pullBehaviour = next;
    },
    setLoginBehaviour(next) {
      loginBehaviour = next;
    },
    async close() {
      await lifecycle.close();
      await rm(socketPath, { force: true });
    },
  };
}

const ENGINE_HEADERS = {
  'Api-Version': FAKE_API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: 'Docker/28.2.2 (linux)',
};

/** The newline-delimited JSON progress messages the CLI renders; an error message ends the pull with exit 1. */
function streamPull(
  res: ServerResponse,
  record: DockerRequest,
  pull: DockerPull,
  error: string | undefined,
): void {
  record.status = 200;
  res.writeHead(200, { ...ENGINE_HEADERS, 'Content-Type': 'application/json' });
  const tag = pull.tag || 'latest';
  const line = (value: unknown): void => {
    res.write(JSON.stringify(value) + '\r\n');
  };
  line({ status: `Pulling from ${pull.fromImage}`, id: tag });
  if (error !== undefined) {
    line({ errorDetail: { message: error }, error });
  } else {
    line({ status: 'Pulling fs layer', progressDetail: {}, id: 'fa4e1c0ffee0' });
    line({ status: 'Pull complete', progressDetail: {}, id: 'fa4e1c0ffee0' });
    line({ status: `Digest: sha256:${'0'.repeat(64)}` });
    line({ status: `Status: Downloaded newer image for ${pull.fromImage}:${tag}` });
  }
  res.end();
}

function decodeJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
