/**
 * zod as deskbroker uses it: the functional `zod/mini` API, which bundlers tree-shake (the
 * classic method-chaining API cannot be: every Lambda carried all of it). Every schema module
 * imports zod from here (`import * as z from '…/core/zod.ts'`), never from `zod` itself, so
 * whatever parses has loaded the one setting below first: English messages
 * (`Too small: expected string to have >=1 characters`), which classic zod installs by itself
 * and zod/mini leaves out (it would say `Invalid input` for everything). The API's
 * `400 invalid_request` answers and the configuration checks quote them.
 *
 * Classic zod also installs a memoizer that lets recursive schemas parse cyclic values; no
 * schema here is recursive, so parsing is the same without it.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
