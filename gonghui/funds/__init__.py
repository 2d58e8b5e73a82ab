"""帮扶资金: the union's relief money, by fund source and budget line.

Money for relief comes from four sources (财政, 上级工会拨付, 本级工会预算, 社会募集); each
organisation holds, per year, one `Budget` per source and budget line (预算科目). Every yuan
spent is a `LedgerEntry` against one budget, naming the spending category an app registered
(`funds.categories.register_category`) and the caller's reference (``"relief.case:123"``).

The invariant: for every budget, ``0 <= spent_fen <= amount_fen`` and ``spent_fen`` equals its
spends minus its refunds. Only `services.py` changes either side: `fund_spend` locks the budget
row, re-checks the remaining amount and records the entry in one transaction (the database's
CHECK constraint is the last line under concurrency); `fund_refund` reverses one spend exactly
once (a unique link to the spend); `budget_adjust` never sets a budget below what is spent.
The ledger is append-only: entries are never updated or deleted, a correction is a refund.
"""
