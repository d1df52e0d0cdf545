import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // expect.poll waits up to 15 s (vitest's default is 1 s): the browser and server tests poll for
    // work done by a service worker, a worker thread or a background job, which a loaded 2-core
    // machine can take longer than a second to finish. The assertions are unchanged.
    expect: { poll: { timeout: 15_000 } },
    // Every answer of a server built in a test is checked against its route's response schema
    // (src/server/http/responses.ts): a field missing, undeclared or of another type fails the request.
    env: { MOODLENS_CHECK_RESPONSES: '1' },
    pool: 'forks',
    reporters: ['default'],
  },
});
