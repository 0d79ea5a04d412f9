"""Words that follow `password` in prose, forms and code without being a password: an assigned value of
letters only is a password unless it is one of these (`password: required`, `password = getpass`,
`the password policy`). Kept short and closed: function words, form and schema vocabulary, code names.
"""

from __future__ import annotations

_FUNCTION = """
a an the and or but nor not no yes is are was were be been being am do does did done has have had having
will would shall should can could may might must need needs to of in on at by for from with without into
onto over under about above below after before again then than that this these those there here when
where which who whom whose why how what all any both each few more most other some such only own same so
too very just also now ever never always please thanks thank you your yours my mine our ours his her hers
its their theirs it we they he she me us them one two three first last next new old same via per if else
while until unless because since though although whether either neither let lets get got set see use used
using via etc ie eg ok okay
"""
_FORMS = """
required optional invalid incorrect wrong expired expires expiry reset resets change changed changes
update updated updates missing empty blank none null nil undefined unknown hidden masked redacted secret
protected encrypted encoded hashed hash hashes salted salt plain plaintext text string str bytes int
integer bool boolean number field fields input inputs output prompt prompts form forms policy policies
manager managers strength strong weak length minimum maximum min max characters character chars digits
symbols letters rules rule requirement requirements complexity rotation rotate rotated history attempts
attempt lockout locked unlock forgot forgotten recovery recover reminder hint hints confirm confirmation
confirmed verify verified verification match matches mismatch login logins logon signin sign auth
authentication authenticated authenticate authorization credential credentials account accounts user
users username usernames admin administrator root owner default defaults initial temporary temp one-time
expiration stored storage store saved save vault keychain keyring file files env environment variable
variables config configuration settings setting option options parameter parameters param params
argument arguments arg args value values type types format example examples sample placeholder dummy
test testing demo true false enabled disabled enable disable on off yes no protected unprotected
authentication-method method methods mode modes flow flows grant grants based less free-text
please enter entered provide provided supply supplied sent send sending shared share sharing generated
generate generating create created creating delete deleted deleting remove removed set-up setup
"""
_CODE = """
getpass input raw_input prompt request req form data body json params query args kwargs options opts
config cfg conf settings env environ os sys self this cls ctx context obj item row record entry user
creds credentials secret secrets vault keyring keychain store db database conn connection client session
payload pw pwd passwd password passwords passphrase pass pin
"""
NOT_A_PASSWORD = frozenset(word.lower() for block in (_FUNCTION, _FORMS, _CODE) for word in block.split())
