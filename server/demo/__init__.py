"""A synthetic, realistic demo data set for 咸宁市 (Hubei) and the code that loads it."""
