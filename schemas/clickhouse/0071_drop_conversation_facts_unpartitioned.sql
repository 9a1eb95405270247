-- Its rows are in conversation_facts (DDL 0069).
DROP TABLE IF EXISTS conversation_facts_unpartitioned
