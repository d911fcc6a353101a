"""attestations (with the documents they looked at) and case tasks

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-07 18:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attestations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('attester_id', sa.String(length=36), nullable=False),
    sa.Column('attester_role', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=False),
    sa.Column('checks', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attester_id'], ['users.id'], name=op.f('fk_attestations_attester_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attestations_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestations'))
    )
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.create_index('ix_attestations_attester_created', ['attester_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attestations_case_id'), ['case_id'], unique=False)

    op.create_table('case_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.LargeBinary(), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('done_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_case_tasks_assignee_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_tasks_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_case_tasks_created_by_users')),
    sa.ForeignKeyConstraint(['done_by'], ['users.id'], name=op.f('fk_case_tasks_done_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_tasks'))
    )
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_case_tasks_assignee_open', ['assignee_id', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_tasks_due_on'), ['due_on'], unique=False)

    op.create_table('attestation_documents',
    sa.Column('attestation_id', sa.String(length=36), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['attestation_id'], ['attestations.id'], name=op.f('fk_attestation_documents_attestation_id_attestations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_attestation_documents_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attestation_id', 'document_id', name=op.f('pk_attestation_documents'))
    )


def downgrade() -> None:
    op.drop_table('attestation_documents')
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_tasks_due_on'))
        batch_op.drop_index(batch_op.f('ix_case_tasks_case_id'))
        batch_op.drop_index('ix_case_tasks_assignee_open')
    op.drop_table('case_tasks')
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attestations_case_id'))
        batch_op.drop_index('ix_attestations_attester_created')
    op.drop_table('attestations')
