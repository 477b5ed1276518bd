/** `plexus` command line: parses argv with yargs and runs one command; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  console.error(`plexus: no commands yet (${argv.join(' ')})`);
  return 2;
}
