/// <reference types="vitest" />
// Vite builds the console to static files (dist/). JSX goes through Vite's built-in esbuild
// transform (no React plugin needed); dev server proxies the services like nginx does.
import { defineConfig } from 'vite';

const management = process.env.ARGUS_MANAGEMENT_URL ?? 'http://127.0.0.1:8001';
const streaming = process.env.ARGUS_STREAMING_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      // react-router ships "use client" directives, meaningless in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warning.code === 'SOURCEMAP_ERROR') return;
        warn(warning);
      },
      output: {
        // Libraries change less often than the console: their own chunks stay cached across
        // deploys. `react-dom/client` is where most of React DOM lives; naming only
        // `react-dom` left it in the entry chunk.
        manualChunks: {
          hls: ['hls.js'],
          react: ['react', 'react-dom', 'react-dom/client', 'react-router-dom', 'scheduler'],
          query: ['@tanstack/react-query'],
          i18n: ['i18next', 'react-i18next'],
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      '/api': management,
      '/ws': { target: management.replace(/^http/, 'ws'), ws: true },
      '/whep': streaming,
      '/hls': streaming,
      '/vod': streaming,
      '/v1/streams': streaming,
    },
  },
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    // Pure modules run in node; component and hook tests opt into jsdom with a
    // `// @vitest-environment jsdom` first line.
    environment: 'node',
    setupFiles: ['tests/support/setup.ts'],
  },
});
