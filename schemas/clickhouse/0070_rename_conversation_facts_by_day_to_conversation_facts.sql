-- The partitioned table takes conversation_facts' name; the unpartitioned one is dropped (DDL 0071).
RENAME TABLE conversation_facts TO conversation_facts_unpartitioned, conversation_facts_by_day TO conversation_facts
