/**
 * The entry point: argv to a command, every failure to protocol output and an exit code. Nothing
 * escapes as a stack trace on stdout, and a hard deadline keeps a hung network from holding docker.
 */
import { ecrHelper } from './commands/helper';
import { BINARY, version } from './commands/version';
import { createContext, type Context } from './context';
import { loadOperatorCommands } from './lazy';
import {
  ACTIONS,
  type Action,
  handle,
  NOT_FOUND,
  processOutput,
  readStdin,
  tellUser,
  writeLine,
  writeText,
} from './protocol';

const USAGE = `Usage: ${BINARY} <store|get|erase|list|version>
       ${BINARY} doctor [HOST...] [--offline] [--json]
       ${BINARY} configure [--registry HOST]... [--public] [--account ID --region R] [--podman] [--dry-run] ...
       ${BINARY} policy [--push] [--registry HOST]... [--repository NAME]... [--public]`;

async function run(action: string | undefined, ctx: () => Context): Promise<number> {
  if (action && ACTIONS.includes(action)) {
    const context = ctx();
    return handle(ecrHelper(context), action as Action, () => readStdin(), processOutput, {
      program: 'ecr-login',
      onUnexpected: (err) =>
        context.logger.error('command failed', { action, error: (err as Error)?.stack ?? String(err) }),
    });
  }
  switch (action) {
    case 'doctor':
      return loadOperatorCommands().doctor(ctx(), process.argv.slice(3));
    case 'configure':
      return loadOperatorCommands().configure(ctx(), process.argv.slice(3));
    case 'policy':
      return loadOperatorCommands().policy(ctx(), process.argv.slice(3));
    case 'version':
    case '--version':
    case '-v':
      return version();
    case '--help':
    case '-h':
    case 'help':
      writeText(USAGE);
      return 0;
    case undefined:
      writeText(USAGE);
      return 1;
    default:
      // docker-credential-helpers' wording on stdout (the protocol's error channel), usage for people.
      writeLine(`${BINARY}: unknown action: ${action.slice(0, 100)}`);
      process.stderr.write(`${USAGE}\n`);
      return 1;
  }
}

function main(): void {
  const action = process.argv[2];
  let context: Context | undefined;
  const ctx = () => (context ??= createContext());
  // The SDK's own warnings (Node version notices and the like) would land on the user's terminal
  // on every pull; they belong in the log.
  process.emitWarning = ((warning: string | Error) => {
    ctx().logger.warn('process warning', { warning: String(warning).split('\n')[0] });
  }) as typeof process.emitWarning;
  // Libraries that print (the SDK's HTTP handler warns with console.warn) must never reach
  // stdout, which docker parses, nor clutter the terminal.
  for (const level of ['log', 'info', 'debug', 'warn', 'error'] as const) {
    // eslint-disable-next-line no-console
    console[level] = (...args: unknown[]) =>
      ctx().logger.warn(`console.${level}: ${args.map(String).join(' ')}`);
  }
  if (action === 'get') {
    // Whatever the network does, docker gets an answer shortly after the budget.
    const { hardCapMs } = ctx().settings;
    const backstop = setTimeout(() => {
      const line = `ecr-login: no answer within ${hardCapMs / 1000}s (3x AWS_ECR_TIMEOUT); answering not found`;
      context?.logger.error(line);
      tellUser(line);
      writeLine(NOT_FOUND);
      process.exit(1);
    }, hardCapMs + 1_500);
    backstop.unref();
  }

  run(action, ctx).then(
    (code) => {
      // Exit now rather than when the SDK's sockets and timers wind down: docker is waiting.
      process.exit(code);
    },
    (err: unknown) => {
      const message = `ecr-login: ${(err as Error)?.message ?? String(err)}`;
      if (action === 'get') {
        // Docker fails the pull on any other answer, even for registries that are not ECR.
        writeLine(NOT_FOUND);
        tellUser(message);
      } else {
        writeLine(message);
      }
      context?.logger.error('command failed', { action, error: (err as Error)?.stack });
      process.exit(1);
    },
  );
}

main();
