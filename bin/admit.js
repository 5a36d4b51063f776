#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1024
// The `admit` command: runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
