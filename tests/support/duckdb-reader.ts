import { DuckDBInstance } from '@duckdb/node-api';

/** DuckDB in process, the independent reader of exported files. Rows come back as JSON values. */
export async function duckdbQuery(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
