"""AWS CDK app of Opinion Barometer (one stack, one construct per concern)."""
