// node .ci/database.ts create|drop <admin-url> <name>
import pg from 'pg';

const [action, url, name] = process.argv.slice(2);
if (!/^[a-z0-9_]+$/.test(name ?? '') || (action !== 'create' && action !== 'drop')) {
  console.error('usage: node .ci/database.ts create|drop <admin-url> <name>');
  process.exit(2);
}
const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query(action === 'create' ? `CREATE DATABASE ${name}` : `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await client.end();
console.log(`${action === 'create' ? 'created' : 'dropped'} database ${name}`);
