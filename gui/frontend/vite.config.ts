/// <reference types="vitest" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The controller serves dist/ on its REST port with the API beside it, so the
// app uses relative URLs; in development Vite forwards them to a local controller.
const controller = process.env.MOOLAI_CONTROLLER_URL ?? 'http://127.0.0.1:8765';
// The page's port is not the REST port here, so the app dials the live stream
// on this origin (as behind any proxy): forward it to the WebSocket port.
const stream = { target: process.env.MOOLAI_CONTROLLER_WS_URL ?? 'ws://127.0.0.1:8766', ws: true };

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 400 },
  server: {
    proxy: {
      '/api/v1/events': stream,
      '/api': controller,
      '/metrics': controller,
    },
  },
  preview: {
    proxy: {
      '/api/v1/events': stream,
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
