"""The reviewer's desk: one queue of the claims and proofs of execution waiting for a decision, and decisions on
many of them in one step. It sits above claims and plans and only calls their selectors and services."""
