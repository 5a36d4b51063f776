import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The admin console, served by `admit serve` at /admin from dist/admin (built by `npm run build`).
export default defineConfig({
  root: path.dirname(new URL(import.meta.url).pathname),
  base: '/admin/',
  plugins: [react()],
  build: { outDir: '../../dist/admin', emptyOutDir: true },
  logLevel: 'warn',
});
