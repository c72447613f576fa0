#!/usr/bin/env node
// The `deskbroker-gateway` command: the gateway program (functions/gateway/cli.ts).
import '../functions/gateway/cli.ts';
