// Stamps a folder in a process of its own and prints { stamp, diagnostics } as JSON: the unreadable-file tests run it
// as an unprivileged user, since root reads every file whatever its mode.
import { gitStamp } from '../../src/tracking/git.ts';

const { stamp, diagnostics } = await gitStamp(process.argv[2]);
process.stdout.write(JSON.stringify({ stamp, diagnostics: diagnostics.map((d) => ({ code: d.code, severity: d.severity, message: d.message })) }));
