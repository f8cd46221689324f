/// <reference types="vitest" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The controller serves dist/ on its REST port with the API beside it, so the
// app uses relative URLs; in development Vite forwards them to a local controller.
const controller = process.env.MOOLAI_CONTROLLER_URL ?? 'http://127.0.0.1:8765';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 400 },
  server: {
    proxy: {
      '/api': controller,
      '/metrics': controller,
    },
  },
  preview: {
    proxy: {
      '/api': controller,
      '/metrics': controller,
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    css: false,
    restoreMocks: true,
  },
});
