#!/usr/bin/env node
// The `deskbroker` command: the local broker and its tools (functions/local/cli.ts).
import '../functions/local/cli.ts';
