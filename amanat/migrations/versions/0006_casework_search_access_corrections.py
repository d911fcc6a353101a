"""casework: case search answers, time-limited access grants, close approvals, household members, record
corrections; case notes as codes and parameters

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-07 18:38:22.158484
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_searches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('case_ids', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_searches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_searches'))
    )
    with op.batch_alter_table('case_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_searches_user_id'), ['user_id'], unique=False)

    op.create_table('case_access',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=True),
    sa.Column('field', sa.String(length=80), nullable=True),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_access_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_access_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_access'))
    )
    with op.batch_alter_table('case_access', schema=None) as batch_op:
        batch_op.create_index('ix_case_access_case_user', ['case_id', 'user_id', 'expires_at'], unique=False)

    op.create_table('case_approvals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('requested_by', sa.String(length=36), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_approvals_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_case_approvals_decided_by_users')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_case_approvals_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_approvals'))
    )
    with op.batch_alter_table('case_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_approvals_case_id'), ['case_id'], unique=False)

    op.create_table('household_members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.String(length=30), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('linked_by', sa.String(length=36), nullable=True),
    sa.Column('linked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['linked_by'], ['users.id'], name=op.f('fk_household_members_linked_by_users')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_household_members_person_id_persons')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_household_members_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_members'))
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_members_record_id'), ['record_id'], unique=False)

    op.create_table('record_corrections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('original', sa.LargeBinary(), nullable=True),
    sa.Column('corrected', sa.LargeBinary(), nullable=False),
    sa.Column('reason_code', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.Column('corrected_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corrected_by'], ['users.id'], name=op.f('fk_record_corrections_corrected_by_users')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_corrections_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_corrections'))
    )
    with op.batch_alter_table('record_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_corrections_record_id'), ['record_id'], unique=False)

    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('params', sa.Text(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_column('voided_at')
        batch_op.drop_column('params')
        batch_op.drop_column('code')

    with op.batch_alter_table('record_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_corrections_record_id'))

    op.drop_table('record_corrections')
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_members_record_id'))
        batch_op.drop_index(batch_op.f('ix_household_members_person_id'))

    op.drop_table('household_members')
    with op.batch_alter_table('case_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_approvals_case_id'))

    op.drop_table('case_approvals')
    with op.batch_alter_table('case_access', schema=None) as batch_op:
        batch_op.drop_index('ix_case_access_case_user')

    op.drop_table('case_access')
    with op.batch_alter_table('case_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_searches_user_id'))

    op.drop_table('case_searches')
