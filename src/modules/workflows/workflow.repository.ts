import type { Conn } from '../../db/database.ts';

export async function workflowExists(conn: Conn, id: string): Promise<boolean> {
  const row = await conn.selectFrom('workflows').select('id').where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}
