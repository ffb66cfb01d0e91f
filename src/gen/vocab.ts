/** Word and domain pools for the synthetic feed: mostly English, some accents, CJK and emoji. */

export const WORDS: readonly string[] = [
  'workers', 'union', 'strike', 'wages', 'court', 'ruling', 'budget', 'senate', 'vote', 'platform', 'policy',
  'moderation', 'algorithm', 'housing', 'rent', 'inflation', 'energy', 'supply', 'chain', 'protest', 'election',
  'ministry', 'report', 'leaked', 'memo', 'investigation', 'contract', 'warehouse', 'delivery', 'drivers', 'teachers',
  'nurses', 'hospital', 'shortage', 'tariffs', 'exports', 'sanctions', 'border', 'ceasefire', 'talks', 'summit',
  'climate', 'heatwave', 'flooding', 'insurance', 'profits', 'shareholders', 'layoffs', 'automation', 'data',
  'privacy', 'surveillance', 'creators', 'streaming', 'subscription', 'regulator', 'antitrust', 'merger', 'lawsuit',
  'appeal', 'verdict', 'coalition', 'mayor', 'council', 'transit', 'fares', 'students', 'tuition', 'debt', 'pension',
  'the', 'a', 'of', 'in', 'on', 'after', 'over', 'amid', 'for', 'and', 'against', 'new', 'record', 'major', 'local',
];

export const UNICODE_WORDS: readonly string[] = [
  'café', 'naïve', 'Zürich', 'São Paulo', 'Kraków', 'Malmö', 'Ciudad de México', 'Besançon', 'Ærøskøbing', 'Łódź',
  '東京', '労働組合', '北京', '최저임금', 'Москва', 'Αθήνα', 'القاهرة', 'मुंबई', '📈', '🔥', '✊', '⚖️', '🏭', '🗳️',
];

export const ITEM_TYPES: readonly string[] = ['news', 'social_post', 'video', 'press_release', 'court_filing', 'report', 'thread'];

export const SOURCES: readonly string[] = ['Reuters', 'AP', 'BBC', 'The Guardian', 'Local Paper', 'Blog', 'Forum', 'Gov notice'];

/** Tier-A domains (some with `www.`) and ordinary ones. */
export const HOSTS: readonly string[] = [
  'www.reuters.com', 'reuters.com', 'apnews.com', 'www.bbc.co.uk', 'bbc.com', 'www.theguardian.com', 'cnn.com',
  'www.nytimes.com', 'washingtonpost.com', 'wsj.com', 'economist.com', 'www.whitehouse.gov', 'supremecourt.gov',
  'canada.ca', 'news.example.org', 'www.localpaper.net', 'blog.example.com', 'forum.example.net', 'substack.com',
  'www.youtube.com', 'x.com', 'www.tiktok.com',
];

export const EXPLANATIONS: readonly string[] = [
  'Matches pillar: material_analysis', 'Matches pillar: institutional_critique',
  'Matches pillar: internet_culture_and_ideology', 'Matches pillar: geopolitical_power_structures',
  'High engagement velocity in the last 6h', 'Corroborated by a tier-A source', 'Early signal from niche forums',
  'Audience overlap with previous coverage',
];

export const RISK_FLAGS: readonly string[] = ['unverified_claims', 'graphic_content', 'legal_review', 'satire_possible'];

/** Forbidden tactics of the default brand profile. */
export const FORBIDDEN_FLAGS: readonly string[] = ['harassment', 'doxxing', 'pile_on_private_individuals', 'speculative_accusations_without_evidence'];

/** Always-cover triggers of the default brand profile, and some that are not. */
export const ALWAYS_COVER: readonly string[] = [
  'major_labor_action', 'supreme_court_ruling', 'budget_legislation', 'war_escalation',
  'corporate_exploitation_scandal', 'platform_censorship_shift',
];
export const OTHER_TRIGGERS: readonly string[] = ['celebrity_news', 'sports_result', 'product_launch'];
