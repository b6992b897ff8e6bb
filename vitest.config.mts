import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: the e2e tests spawn many processes, so keep file-level parallelism modest.
    maxWorkers: 2,
    // Tests that load the SDK in-process would print its Node 20 notice on every file.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
