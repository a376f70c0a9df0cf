import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: real peers (redis-server, sshd) and key generation are CPU-bound.
    maxWorkers: 2,
  },
});
