// The accounts as a change log, for the users feed: every account and every tombstone of a
// removed one, ordered by (last change, id), read page by page after a position (keyset).
//
// The guarantee: a reader that comes back with the last position it saw gets every change made
// since, at least once, and the latest state of each account. Timestamps are written by the
// application before its transaction commits, so a change may become visible with a timestamp
// earlier than one a reader has already passed. Rows younger than `settleSeconds` (database
// clock) are therefore held back from every page: a change is skipped only if its transaction
// commits more than `settleSeconds` after its timestamp, or a replica's clock runs that far
// ahead of the database's. The price: changes reach the feed `settleSeconds` late.
import { Prisma as Sql } from '../generated/prisma/client.ts';
import type { Prisma } from '../db/database.ts';
import { tombstoneView, userView } from './user-view.ts';
import type { TombstoneView, UserView } from './user-view.ts';

export interface ChangePosition {
  at: Date;
  id: string;
}

export interface Change {
  position: ChangePosition;
  view: UserView | TombstoneView;
}

interface Row {
  id: string;
  changed_at: Date;
  deleted: boolean;
}

export function createUserChanges(prisma: Prisma, { settleSeconds }: { settleSeconds: number }) {
  const keyset = (column: string, after?: ChangePosition) =>
    after ? Sql.sql`(${Sql.raw(column)}, id) > (${after.at}::timestamptz, ${after.id}) AND` : Sql.empty;

  return {
    /** Up to `limit` changes after `after` (from the start without it), and whether more are ready. */
    async page({ after, limit }: { after?: ChangePosition; limit: number }): Promise<{ changes: Change[]; hasMore: boolean }> {
      const horizon = Sql.sql`statement_timestamp() - make_interval(secs => ${settleSeconds})`;
      const rows = await prisma.$queryRaw<Row[]>`
        SELECT id, changed_at, deleted FROM (
          (SELECT id, updated_at AS changed_at, false AS deleted FROM users
            WHERE ${keyset('updated_at', after)} updated_at <= ${horizon}
            ORDER BY updated_at, id LIMIT ${limit + 1})
          UNION ALL
          (SELECT id, deleted_at, true FROM user_tombstones
            WHERE ${keyset('deleted_at', after)} deleted_at <= ${horizon}
            ORDER BY deleted_at, id LIMIT ${limit + 1})
        ) AS change
        ORDER BY changed_at, id LIMIT ${limit + 1}`;
      const page = rows.slice(0, limit);
      const ids = (deleted: boolean) => page.filter((row) => row.deleted === deleted).map((row) => row.id);
      const [users, tombstones] = await Promise.all([
        prisma.user.findMany({ where: { id: { in: ids(false) } } }),
        prisma.userTombstone.findMany({ where: { id: { in: ids(true) } } }),
      ]);
      const views = new Map<string, UserView | TombstoneView>([
        ...users.map((user) => [user.id, userView(user)] as const),
        ...tombstones.map((tombstone) => [tombstone.id, tombstoneView(tombstone)] as const),
      ]);
      const changes = page.flatMap((row): Change[] => {
        // Removed between the two reads: its tombstone comes later in the feed.
        const view = views.get(row.id);
        if (!view || ('deleted' in view) !== row.deleted) return [];
        return [{ position: { at: row.changed_at, id: row.id }, view }];
      });
      return { changes, hasMore: rows.length > limit };
    },

    /** One account now, its tombstone if it was removed, or null if it never existed. */
    async find(id: string): Promise<UserView | TombstoneView | null> {
      const user = await prisma.user.findUnique({ where: { id } });
      if (user) return userView(user);
      const tombstone = await prisma.userTombstone.findUnique({ where: { id } });
      return tombstone ? tombstoneView(tombstone) : null;
    },
  };
}

export type UserChanges = ReturnType<typeof createUserChanges>;
