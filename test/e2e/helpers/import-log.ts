/** `node --import` entry: registers import-log-hooks.ts in the process it starts. */
import { register } from 'node:module';

register('./import-log-hooks.js', import.meta.url);
