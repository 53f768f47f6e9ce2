// The full build: `edgeserve` (ONNX parser, models loaded at run time).
import * as edgeserve from 'edgeserve';
import { run } from './checks.js';

run(edgeserve, 'full');
