// Lets Node (and ava) run the TypeScript sources directly: esbuild strips the
// types on load, and extensionless relative imports resolve to .ts files.
import { register } from 'node:module';
register('./ts-hooks.mjs', import.meta.url);
