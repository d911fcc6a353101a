"""per-record data keys (wrapped by the field key), the erasure ledger and erased cases' tombstones

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-07 23:10:09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('data_keys',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_data_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_data_keys_key_id'))
    )
    op.create_table('erasure_ledger',
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('erasure_id', sa.String(length=36), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_erasure_ledger'))
    )
    with op.batch_alter_table('erasure_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_ledger_erasure_id'), ['erasure_id'], unique=False)

    op.create_table('erasures',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('erasure_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('approval_id', sa.String(length=36), nullable=True),
    sa.Column('rule', sa.String(length=40), nullable=True),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('erased_by', sa.String(length=36), nullable=True),
    sa.Column('erased_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_erasures_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures')),
    sa.UniqueConstraint('case_id', name=op.f('uq_erasures_case_id'))
    )
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasures_erasure_id'), ['erasure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasures_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasures_person_id'))
        batch_op.drop_index(batch_op.f('ix_erasures_erasure_id'))

    op.drop_table('erasures')
    with op.batch_alter_table('erasure_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_ledger_erasure_id'))

    op.drop_table('erasure_ledger')
    op.drop_table('data_keys')
