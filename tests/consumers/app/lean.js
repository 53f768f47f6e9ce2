// The lean build: `edgeserve/lean` (embedded packages only).
import * as edgeserve from 'edgeserve/lean';
import { run } from './checks.js';

run(edgeserve, 'lean');
