"""Use cases: domain rules applied to stored data, inside a transaction the caller owns.

Services never commit or roll back; they raise `contacthub.errors` exceptions.
"""
