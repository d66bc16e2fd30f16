"""The vote service: accepts one vote per voter and puts it on the Redis stream."""
