import { main } from "./cli";

/** `npm run smoke -- --stage <name>`: see `./cli.ts`. */
process.exitCode = await main(process.argv.slice(2), (line) => console.log(line));
