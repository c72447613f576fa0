#!/usr/bin/env node
// The `deskbroker` command: the local broker and its tools (functions/local/cli/main.ts).
import '../functions/local/cli/main.ts';
