"""Latency of `POST /v3/contact/get` (pages and searches) on PostgreSQL with a large organization.

What it measures: how long one `contacthub serve` process takes to answer
`POST /v3/contact/get` when one organization holds N contacts (default
1,000,000) in PostgreSQL: the first page, a page deep in the organization,
and searches by a common first-name prefix, a rare full last name, a company
prefix, an e-mail domain prefix, 3- and 7-digit phone fragments, a search
that matches nothing and, last, a 2-digit phone fragment. Each case is sent
by one HTTP client, sequentially, 3 times to warm up and then `--repeat`
times (default 20) timed; the table gives p50/p95/max in milliseconds and the
`count` the server answered.

Beside each case it gives the database's own time for the two statements the
server runs for it (the page, `storage.contacts.page`, and the total,
`storage.contacts.count`, both built by `_matching`; the very statements those
functions build, recorded and compiled), as EXPLAIN (ANALYZE, BUFFERS)
execution times (median of `--explain-runs`, per-node timing off), with the
plan's top node and shape, in two ways:

- custom: compiled with literal values, so PostgreSQL plans for these values;
- generic: PREPAREd with $n parameters and run with plan_cache_mode =
  force_generic_plan. The server's driver (psycopg) prepares a statement once
  a connection has run it 5 times, and PostgreSQL, 5 executions later, keeps
  to the generic plan if it does not look costlier than the custom ones so
  far; so a long-running server may run either, depending on which searches
  of the same SQL shape came before. The HTTP figures show which it ran:
  the cases run in the order listed, on one server.

What it does:

1. creates a fresh database `contacthub_bench_<random>` on the server of
   `--postgres-url` (default postgresql://postgres@127.0.0.1:5432/test) and
   drops it at the end (`DROP DATABASE ... WITH (FORCE)`), also on error or
   Ctrl-C, unless `--keep` is given;
2. migrates it with `contacthub db upgrade` (the CLI next to this Python),
   creates an app with `contacthub app create --json`, starts
   `contacthub serve` on a free loopback port, adds a user with
   `POST /v2/user/add` and logs in with `POST /v2/user/login`
   (bench/_harness.py);
3. loads the contacts straight into the `contacts` table with COPY (not over
   HTTP): varied names from a few hundred first and last names in Latin
   (plain and accented), Devanagari, Tamil, Bengali, Cyrillic, Greek,
   Arabic, Chinese, Japanese and Korean, a few hundred companies, e-mails at
   a few hundred domains, job titles, and unique Indian mobile numbers
   (91 9XXXXXXXXX, spread over the whole range by a counter times a stride);
   creation times spread over three years in insertion order, with a UUIDv7
   `contact_id` of that time; the search-key columns computed by
   `contacthub.domain.search.search_keys`, exactly as the server does. A
   sample of the rows is first put through the server's own field rules
   (`parse_contact_batch`) to check that the server would store them as
   they are. After the load, `VACUUM (ANALYZE) contacts` (the ANALYZE the
   planner needs, and the vacuum that autovacuum would otherwise start in
   the middle of the measurements);
4. measures the cases above over HTTP, then EXPLAINs the statements;
5. prints the load time, the table and index sizes, the figures, the plans
   of the statements slower than `--plan-threshold-ms`, and the machine
   (nproc, memory, PostgreSQL version and settings).

The data is generated from `--seed`, so two runs with the same arguments
load the same contacts, but for the timestamps (and so the UUIDs), which
end at the time of the run.

Run it from the repository root:

    .venv/bin/python bench/search_pg.py [--contacts 1000000]
    .venv/bin/python bench/search_pg.py --contacts 100000 --repeat 10 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Any, cast

import httpx
import psycopg
from _harness import (
    CONTACTHUB,
    DEFAULT_POSTGRES_URL,
    REQUEST_TIMEOUT_SECONDS,
    cpu_model,
    create_app,
    expect_ok,
    load_average,
    log_in,
    memory_total,
    migrate,
    nearest_rank,
    postgres_database,
    running_server,
)
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import psycopg as sa_psycopg
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from contacthub.domain.contacts import parse_contact_batch
from contacthub.domain.search import SearchTerm, parse_search, search_keys
from contacthub.storage import contacts as contacts_storage

PAGE_LIMIT = 100
DEEP_PAGES = 5
WARMUPS = 3
VALIDATION_SAMPLE = 2_000
SLOW_MS = 100.0

# Phone numbers: 91 + 9 + nine digits. Counter i gives national number
# 9_000_000_000 + (i * STRIDE + OFFSET) mod 10^9: unique for every i below
# 10^9 (STRIDE = 3^18 is prime to 10), and spread over the whole range, as
# real numbers are, rather than sharing their leading digits.
PHONE_BASE = 9_000_000_000
PHONE_SPAN = 1_000_000_000
PHONE_STRIDE = 387_420_489
PHONE_OFFSET = 123_456_789

HISTORY_MS = 3 * 365 * 24 * 3600 * 1000
COPY_COLUMNS = (
    "contact_id", "app_id", "phone_no", "first_name", "last_name", "email_id", "company",
    "job_title", "created_at", "updated_at", "first_name_key", "last_name_key", "company_key",
    "email_key", "email_domain_key",
)  # fmt: skip
NULL = "\\N"

# --- the data ------------------------------------------------------------------------
# Each group: (weight of the group, names in order of how common they are within it,
# and the separator of the names when some have spaces).

FIRST_NAMES: tuple[tuple[float, str], ...] = (
    (
        10.0,
        """Rahul Priya Amit Neha Rajesh Pooja Suresh Sunita Ramesh Anjali Vijay Kavita
        Sanjay Deepika Anil Divya Ravi Sneha Manish Rekha Arjun Ananya Rohit Lakshmi Vikram
        Meena Ajay Nisha Sachin Shreya Deepak Geeta Ashok Swati Rakesh Aishwarya Arun Asha
        Mahesh Jyoti Dinesh Preeti Sunil Radha Gaurav Usha Nikhil Anita Karthik Sangeetha
        Prakash Madhuri Harish Aarti Kiran Bhavna Varun Sapna Mohan Shweta Naveen Rani
        Raj Komal Krishna Payal Ganesh Shilpa Srinivas Tanvi Venkatesh Isha Abhishek Ritu
        Aditya Pallavi Akash Nandini Ankit Riya Yash Ishita Aarav Diya Vivaan Saanvi Ishaan
        Aadhya Kabir Myra Rohan Kavya Pranav Meera Siddharth Anika Tarun Rashmi Vinod Sarita
        Pradeep Seema Naresh Mamta Rajendra Uma Satish Lata Girish Hema Murali Padma Ramya
        Balaji Gayathri Senthil Revathi Arvind Charulata Jagdish Farah Imran Ayesha Salman
        Zainab Faisal Sana Irfan Nazia Harpreet Gurpreet Manpreet Jaspreet Simran Navjot""",
    ),
    (
        3.0,
        """John Mary David Sarah Michael Jennifer James Emily Robert Jessica William
        Ashley Daniel Amanda Thomas Laura Christopher Rachel Matthew Megan Andrew Hannah
        Joseph Olivia Ryan Sophia Kevin Emma Brian Grace Peter Alice George Helen Paul
        Victoria Mark Rebecca Steven Lucy Edward Charlotte""",
    ),
    (
        1.5,
        """José María François Zoë Chloé Renée André Søren Bjørn Åsa Jürgen Günther
        Łukasz Paweł Małgorzata Dušan Miloš Tomáš Jiří Ömer Çağla Şule Héctor Inés João
        Conceição Émilie Hélène Agnès Raphaël Anaïs Joël Noël Björn Jörg Niño Ángel Lucía
        İbrahim İrem Mónica Ramón Sebastián Ærin""",
    ),
    (
        1.0,
        """राहुल प्रिया अमित नेहा राजेश पूजा सुनीता विजय संजय दीपक कविता सुरेश गीता रवि
        अंकित श्रेया आदित्य स्नेहा मनीष अनीता""",
    ),
    (0.6, """முருகன் கார்த்திக் லட்சுமி செல்வி அருண் பிரியா சரவணன் மீனா கணேஷ் தேவி"""),
    (0.4, """সৌরভ অর্পিতা রাহুল সুমন মৌমিতা দেবাশীষ"""),
    (
        0.5,
        """Александр Дмитрий Ольга Наталья Сергей Екатерина Иван Мария Анна Алексей
        Татьяна Юлия Андрей Елена Михаил""",
    ),
    (0.3, """Γιώργος Μαρία Νίκος Ελένη Δημήτρης Κατερίνα Σοφία Κώστας Ιωάννα Παναγιώτης"""),
    (0.4, """محمد أحمد فاطمة علي عمر ليلى يوسف مريم خالد نور"""),
    (0.5, """伟 芳 娜 敏 静 丽 强 磊 翔 太郎 花子 陽菜 민준 서연 지호 하은"""),
)

LAST_NAMES: tuple[tuple[float, str] | tuple[float, str, str], ...] = (
    (
        10.0,
        """Sharma Kumar Singh Patel Gupta Verma Reddy Rao Nair Yadav Joshi Mehta Shah Iyer
        Mishra Pandey Tiwari Agarwal Jain Das Banerjee Chatterjee Mukherjee Bose Ghosh Sen
        Dutta Kulkarni Deshpande Patil Pawar Jadhav Chauhan Srivastava Saxena Bansal Goel
        Malhotra Kapoor Khanna Chopra Arora Bhatia Sethi Gill Sandhu Dhillon Grewal Naidu
        Chowdary Hegde Shetty Kamath Bhat Pai Prabhu Fernandes D'Souza Pereira Rodrigues
        Gomes Khan Ahmed Qureshi Siddiqui Ansari Sheikh Syed Mirza Hussain Menon Pillai
        Iyengar Krishnan Subramanian Raman Venkataraman Natarajan Balasubramanian Sundaram
        Chandrasekhar Raghavan Mathew Thomas Varghese Kurian Chacko Dubey Shukla Trivedi
        Upadhyay Bhattacharya Chakraborty Sarkar Mondal Roy Saha Paul Thakur Rathore
        Rajput Solanki Parmar Desai Modi Dave Vyas Bhatt Kohli Sood Mahajan Bedi Ahuja
        Luthra Narang Tandon Kakkar Walia Randhawa Sidhu Brar Bajwa Sekhon Goswami Kashyap
        Bhardwaj Vashisht Rastogi Kaul Raina Dhar Wani Lone Mir""",
    ),
    (
        3.0,
        """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore
        Martin Jackson Thompson White Harris Clark Lewis Walker Hall Allen Young King Wright
        Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans
        Turner Parker Collins Edwards""",
    ),
    (
        1.5,
        """Müller Schröder Weiß Gößling Ødegaard Sørensen Ångström Björk Núñez Muñoz
        Peña García Fernández González López Pérez Sánchez Gómez Díaz Álvarez Jiménez
        Lefèvre Dubois Gérard Bélanger Côté Gagné Lévesque Kowalski Wiśniewski Wójcik
        Dvořák Novák Horváth Kovačević Petrović Yılmaz Öztürk Çelik Şahin Doğan Gonçalves
        Magalhães Brandão Aðalsteinsson Þórsdóttir Straße""",
    ),
    (1.0, """शर्मा वर्मा गुप्ता सिंह कुमार पटेल यादव मिश्रा जोशी पाण्डेय"""),
    (0.5, """சுப்பிரமணியன் ராமசாமி கிருஷ்ணன் வேலு முத்து"""),
    (0.3, """বন্দ্যোপাধ্যায় চট্টোপাধ্যায় মুখোপাধ্যায় দাস"""),
    (0.5, """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров"""),
    (0.3, """Παπαδόπουλος Γεωργίου Οικονόμου Νικολάου Παπαδάκης"""),
    (0.4, """الحسن العلي المنصور الخطيب الشامي"""),
    (0.5, """王 李 张 刘 陈 杨 黄 佐藤 鈴木 高橋 田中 김 이 박 최"""),
    (
        0.01,
        """Ó Súilleabháin|Wojciechowski|Zürcher|Ekwueme|Aðalgeirsson|Van der Westhuizen|
        Nakamura-Lindqvist|Szczepańska|Oyelaran|Bhattacharjee-Rao""",
        "|",
    ),
)

KNOWN_COMPANIES = """Tata Consultancy Services|Infosys|Wipro|HCL Technologies|Tech Mahindra|
    Reliance Industries|Larsen & Toubro|Bharti Airtel|Mahindra & Mahindra|Tata Motors|Tata Steel|
    Tata Power|Hindustan Unilever|ITC Limited|Asian Paints|Bajaj Auto|Bajaj Finance|HDFC Bank|
    ICICI Bank|Axis Bank|Kotak Mahindra Bank|State Bank of India|Punjab National Bank|
    Maruti Suzuki|Hero MotoCorp|TVS Motor|Sun Pharma|Dr. Reddy's Laboratories|Cipla|Lupin|
    Biocon|Zomato|Swiggy|Flipkart|Paytm|Ola|Zoho|Freshworks|Byju's|Nykaa|Dabur|Marico|Godrej|
    Britannia|Amul|Titan Company|Adani Enterprises|Vedanta|JSW Steel|UltraTech Cement|
    Nestlé India|Société Générale|Hermès|Citroën|Škoda Auto India|Müller & Söhne GmbH|
    L'Oréal India|Siemens|Bosch|Accenture|Cognizant|Capgemini|IBM India|Oracle|Microsoft|
    Google|Amazon|Deloitte|KPMG|EY|PwC|McKinsey|टाटा मोटर्स|इंडियन ऑयल|ООО Ромашка|
    株式会社 東芝|삼성전자"""
COMPANY_FIRST_WORDS = """Sharma Gupta Patel Shree Ganesh|Sai|Om|Balaji|Lakshmi|Krishna|Royal|
    National|Global|Apex|Sunrise|Bharat|Hindustan|Deccan|Coromandel|Malabar|Ganga|Himalaya|
    Vijay|Shakti|Surya|Annapurna|Kaveri|Narmada|Everest|Pioneer|Orient|Metro|Prime|Star|
    Silver|Golden|Green Leaf|Blue Ocean|Nova|Zenith|Vertex|Quantum|Infinity|Trident|Aravali|
    Vindhya|Konkan|Kohinoor|Mangal|Navratna|Jai Hind|Swastik|Anand|Mahalaxmi|Sri Venkateswara"""
COMPANY_TRADES = """Traders|Textiles|Motors|Pharma|Logistics|Steel|Foods|Electricals|
    Constructions|Software|Agencies|Jewellers|Enterprises|Industries|Exports|Chemicals|
    Healthcare|Infotech|Solutions|Builders|Distributors|Packaging|Plastics|Polymers|
    Auto Parts|Cold Storage|Travels|Hospitality|Finance|Realty"""
COMPANY_SUFFIXES = ("", "", " Pvt Ltd", " Pvt. Ltd.", " LLP", " & Co", " Limited")

WEBMAIL_DOMAINS = """gmail.com yahoo.com yahoo.co.in outlook.com hotmail.com rediffmail.com
    icloud.com live.com protonmail.com zoho.com aol.com gmx.com yandex.ru mail.ru msn.com
    proton.me fastmail.com ymail.com sify.com vsnl.net"""
OTHER_DOMAINS = """iitb.ac.in iitd.ac.in iitm.ac.in iisc.ac.in du.ac.in jnu.ac.in bits-pilani.ac.in
    nic.in gov.in bsnl.in airtelmail.in jio.com tataskye.com hathway.net actcorp.in
    example.org mailbox.org tutanota.com web.de orange.fr libero.it qq.com 163.com naver.com"""

JOB_TITLES = """Software Engineer|Senior Software Engineer|Manager|Sales Manager|
    Account Manager|Director|Vice President|CEO|CFO|CTO|Founder|Consultant|Analyst|
    Business Analyst|Data Scientist|Accountant|Chartered Accountant|HR Executive|
    Marketing Executive|Operations Manager|Project Manager|Product Manager|Designer|Architect|
    Doctor|Nurse|Teacher|Professor|Lawyer|Advocate|Engineer|Civil Engineer|Technician|
    Supervisor|Store Manager|Purchase Officer|Relationship Manager|Customer Support|Intern|
    Proprietor|Partner|Chef|Driver|Pharmacist"""


def _words(text: str, separator: str | None = None) -> list[str]:
    return [word.strip() for word in text.split(separator) if word.strip()]


def _zipf_weights(count: int, exponent: float = 0.9) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


def _grouped(
    groups: Sequence[tuple[float, str] | tuple[float, str, str]],
) -> tuple[list[str], list[float]]:
    """All names of the groups, and weights: the group's share, Zipf-like within it.

    A group's names are separated by white space, or by its third element.
    """
    names: list[str] = []
    weights: list[float] = []
    for share, text, *separator in groups:
        group = _words(text, separator[0] if separator else None)
        zipf = _zipf_weights(len(group))
        total = sum(zipf)
        names.extend(group)
        weights.extend(share * weight / total for weight in zipf)
    return names, weights


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of `text`, accents dropped; '' for other scripts."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class Vocabulary:
    """The lists contacts are drawn from, with cumulative weights for `Random.choices`."""

    first_names: list[str]
    first_cum: list[float]
    last_names: list[str]
    last_cum: list[float]
    companies: list[str]
    company_cum: list[float]
    company_domains: list[str]
    mail_domains: list[str]
    mail_cum: list[float]
    job_titles: list[str]
    first_slugs: list[str]
    last_slugs: list[str]
    latin_slugs: list[str]

    @property
    def domain_count(self) -> int:
        return len(set(self.company_domains) | set(self.mail_domains))


def build_vocabulary(rng: Random) -> Vocabulary:
    first_names, first_weights = _grouped(FIRST_NAMES)
    last_names, last_weights = _grouped(LAST_NAMES)

    known = _words(KNOWN_COMPANIES, "|")
    firsts = _words(COMPANY_FIRST_WORDS, "|")
    trades = _words(COMPANY_TRADES, "|")
    made = sorted({f"{first} {trade}" for first in firsts for trade in trades})
    generated = [name + rng.choice(COMPANY_SUFFIXES) for name in rng.sample(made, 330)]
    companies = known + generated
    company_weights = _zipf_weights(len(known), 0.8) + [0.05] * len(generated)
    company_domains = []
    for company in companies:
        slug = "".join(ascii_slug(word) for word in company.split()[:2]) or "corp"
        company_domains.append(f"{slug}{rng.choice(('.com', '.in', '.co.in', '.net'))}")

    webmail = _words(WEBMAIL_DOMAINS)
    other = _words(OTHER_DOMAINS)
    mail_domains = webmail + other
    mail_weights = [10 * weight for weight in _zipf_weights(len(webmail), 1.2)] + [0.05] * len(
        other
    )

    vocabulary = Vocabulary(
        first_names=first_names,
        first_cum=list(accumulate(first_weights)),
        last_names=last_names,
        last_cum=list(accumulate(last_weights)),
        companies=companies,
        company_cum=list(accumulate(company_weights)),
        company_domains=company_domains,
        mail_domains=mail_domains,
        mail_cum=list(accumulate(mail_weights)),
        job_titles=_words(JOB_TITLES, "|"),
        first_slugs=[ascii_slug(name) for name in first_names],
        last_slugs=[ascii_slug(name) for name in last_names],
        latin_slugs=[slug for slug in map(ascii_slug, first_names) if slug],
    )
    # Rows are written as COPY text: no value may hold what that format escapes.
    for text in (*first_names, *last_names, *companies, *vocabulary.job_titles):
        if any(ch in text for ch in "\\\t\n\r") or text != text.strip():
            raise ValueError(f"unusable value in the lists: {text!r}")
    return vocabulary


def phone_number(index: int) -> str:
    return f"91{PHONE_BASE + (index * PHONE_STRIDE + PHONE_OFFSET) % PHONE_SPAN}"


def uuid7_text(ms: int, rng: Random) -> str:
    """A UUIDv7 (RFC 9562) of the given millisecond, in canonical text form."""
    value = (
        (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    )
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass
class Generator:
    """Contacts in creation order, as rows of the `contacts` table (without `seq`)."""

    vocabulary: Vocabulary
    app_id: int
    total: int
    seed: int
    now_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    last_name_counts: Counter[int] = field(default_factory=Counter)
    first_name_counts: Counter[int] = field(default_factory=Counter)
    company_counts: Counter[int] = field(default_factory=Counter)
    domain_counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = Random(self.seed)
        # The UUIDs' random bits come from a stream of their own, so that the
        # fields do not depend on whether UUIDs are made (check_rows_valid).
        self._uuid_rng = Random(self.seed + 1)
        self._start_ms = self.now_ms - HISTORY_MS
        self._step_ms = HISTORY_MS / max(self.total, 1)

    def fields(self, start: int, count: int) -> Iterator[dict[str, Any]]:
        """The contact fields of contacts start .. start+count-1, plus their timestamps."""
        vocab = self.vocabulary
        rng = self._rng
        firsts = rng.choices(range(len(vocab.first_names)), cum_weights=vocab.first_cum, k=count)
        lasts = rng.choices(range(len(vocab.last_names)), cum_weights=vocab.last_cum, k=count)
        companies = rng.choices(range(len(vocab.companies)), cum_weights=vocab.company_cum, k=count)
        mails = rng.choices(vocab.mail_domains, cum_weights=vocab.mail_cum, k=count)
        self.first_name_counts.update(firsts)
        self.last_name_counts.update(lasts)
        for offset in range(count):
            index = start + offset
            first_index, last_index = firsts[offset], lasts[offset]
            company_index: int | None = companies[offset] if rng.random() < 0.75 else None
            email = None
            if rng.random() < 0.85:
                first_slug = vocab.first_slugs[first_index] or rng.choice(vocab.latin_slugs)
                last_slug = vocab.last_slugs[last_index] or rng.choice(vocab.latin_slugs)
                form = rng.randrange(5)
                if form == 0:
                    local = f"{first_slug}.{last_slug}"
                elif form == 1:
                    local = f"{first_slug}{last_slug}{rng.randrange(100)}"
                elif form == 2:
                    local = f"{first_slug[0]}{last_slug}"
                elif form == 3:
                    local = f"{first_slug}_{last_slug}{rng.randrange(1965, 2006)}"
                else:
                    local = f"{first_slug}{rng.randrange(1000)}"
                if company_index is not None and rng.random() < 0.5:
                    domain = vocab.company_domains[company_index]
                else:
                    domain = mails[offset]
                email = f"{local}@{domain}"
                self.domain_counts[domain] += 1
            if company_index is not None:
                self.company_counts[company_index] += 1
            created = self._start_ms + int((index + rng.random() * 0.9) * self._step_ms)
            updated = created
            if rng.random() < 0.15:
                updated = created + int(rng.random() * (self.now_ms - created))
            yield {
                "phone_no": phone_number(index),
                "first_name": vocab.first_names[first_index],
                "last_name": vocab.last_names[last_index],
                "email_id": email,
                "company": None if company_index is None else vocab.companies[company_index],
                "job_title": rng.choice(vocab.job_titles) if rng.random() < 0.7 else None,
                "created_at": created,
                "updated_at": updated,
            }

    def copy_text(self, start: int, count: int) -> str:
        """Rows start .. start+count-1 in COPY text format, columns as COPY_COLUMNS."""
        app = str(self.app_id)
        rng = self._uuid_rng
        lines = []
        for row in self.fields(start, count):
            keys = search_keys(
                first_name=row["first_name"],
                last_name=row["last_name"],
                company=row["company"],
                email_id=row["email_id"],
            )
            lines.append(
                "\t".join(
                    (
                        uuid7_text(row["created_at"], rng),
                        app,
                        row["phone_no"],
                        row["first_name"],
                        row["last_name"],
                        row["email_id"] or NULL,
                        row["company"] or NULL,
                        row["job_title"] or NULL,
                        str(row["created_at"]),
                        str(row["updated_at"]),
                        keys["first_name_key"] or NULL,
                        keys["last_name_key"] or NULL,
                        keys["company_key"] or NULL,
                        keys["email_key"] or NULL,
                        keys["email_domain_key"] or NULL,
                    )
                )
            )
        lines.append("")
        return "\n".join(lines)


def check_rows_valid(vocabulary: Vocabulary, app_id: int, total: int, seed: int) -> int:
    """Put the first rows through the server's own field rules; they must come out unchanged."""
    sample = Generator(vocabulary, app_id, total, seed)
    rows = list(sample.fields(0, min(VALIDATION_SAMPLE, total)))
    for start in range(0, len(rows), 100):
        given = [
            {key: value for key, value in row.items() if not key.endswith("_at")}
            for row in rows[start : start + 100]
        ]
        drafts, problems = parse_contact_batch(given, default_region=None)
        if problems:
            raise RuntimeError(f"generated contacts the server would refuse: {problems[:5]}")
        for draft, wanted in zip(drafts, given, strict=True):
            stored = {key: getattr(draft, key) for key in wanted}
            if stored != wanted:
                raise RuntimeError(f"the server would store {stored}, not {wanted}")
    return len(rows)


# --- loading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    rows: int
    generate_and_copy_seconds: float
    vacuum_analyze_seconds: float
    validated: int


def load_contacts(
    database_url: str, generator: Generator, batch_rows: int, chunk_rows: int, validated: int
) -> LoadResult:
    """COPY the generator's rows in transactions of `batch_rows`, written `chunk_rows` at a time."""
    columns = sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS))
    statement = sql.SQL("COPY contacts ({}) FROM STDIN").format(columns)
    started = time.perf_counter()
    with psycopg.connect(database_url) as connection:
        connection.execute("SET synchronous_commit = off")
        written = 0
        while written < generator.total:
            batch = min(batch_rows, generator.total - written)
            # The queued writer sends the data from a thread of its own, so that
            # generating the next rows overlaps with PostgreSQL storing these.
            with (
                connection.cursor() as cursor,
                cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
            ):
                for start in range(written, written + batch, chunk_rows):
                    count = min(chunk_rows, written + batch - start)
                    copy.write(generator.copy_text(start, count))
            connection.commit()
            written += batch
            elapsed = time.perf_counter() - started
            print(
                f"  loaded {written:>10,} rows  {elapsed:7.1f} s  {written / elapsed:9,.0f} rows/s",
                flush=True,
            )
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as connection:
        # COPY bypasses the server, which keeps each app's contact count with its writes.
        connection.execute("DELETE FROM contact_totals")
        connection.execute(
            "INSERT INTO contact_totals (app_id, shard, total) "
            "SELECT app_id, 0, count(*) FROM contacts GROUP BY app_id"
        )
        connection.execute("VACUUM (ANALYZE) contacts")
    return LoadResult(generator.total, loaded, time.perf_counter() - started, validated)


# --- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    search: str | None = None
    deep: bool = False


@dataclass(frozen=True)
class Explained:
    statement: str
    execution_ms: float
    top_node: str
    shape: str
    text_plan: str


@dataclass
class Measured:
    case: Case
    latencies_ms: list[float]
    count: int
    returned: int
    after: int
    sql: dict[tuple[str, str], Explained] = field(default_factory=dict)


def choose_cases(generator: Generator, total: int) -> list[Case]:
    """The cases, their search strings taken from what was loaded."""
    vocab = generator.vocabulary
    prefixes: Counter[str] = Counter()
    for index, seen in generator.first_name_counts.items():
        key = vocab.first_names[index].casefold()
        if len(key) >= 2 and key.isascii():
            prefixes[key[:2]] += seen
    common_prefix = prefixes.most_common(1)[0][0]
    latin_last = [
        (seen, vocab.last_names[index])
        for index, seen in generator.last_name_counts.items()
        if ascii_slug(vocab.last_names[index])
    ]
    rare_last = min(latin_last)[1]
    top_company = vocab.companies[generator.company_counts.most_common(1)[0][0]]
    company_prefix = top_company.split()[0][:5]
    top_domain = generator.domain_counts.most_common(1)[0][0]
    domain_prefix = top_domain[:5]
    # Seven digits from the middle of a stored number: it matches at least that contact.
    seven = phone_number(total // 3)[4:11]
    return [
        Case("first page"),
        Case(f"page {DEEP_PAGES + 1} (after {DEEP_PAGES} pages)", deep=True),
        Case("first-name prefix, common", common_prefix.capitalize()),
        Case("last name, rare, full", rare_last),
        Case("company prefix", company_prefix),
        Case("email domain prefix", domain_prefix),
        Case("phone, 3 digits", "482"),
        Case("phone, 7 digits", seven),
        Case("matches nothing", "Qxzv"),
        # Last, as it may leave the server's connection on a generic plan: under
        # three characters, the trigram index cannot narrow `LIKE '%48%'` at all.
        Case("phone, 2 digits", "48"),
    ]


def measure_http(
    client: httpx.Client, token: str, case: Case, repeat: int, seq_of: Callable[[str], int]
) -> Measured:
    body: dict[str, Any] = {"token": token, "limit": PAGE_LIMIT}
    after = 0
    if case.search is not None:
        body["search"] = case.search
    if case.deep:
        for _ in range(DEEP_PAGES):
            page = expect_ok(client.post("/v3/contact/get", json=body))
            if page["page_state"] is None:
                raise RuntimeError(f"too few contacts for {DEEP_PAGES + 1} pages")
            body["page_state"] = page["page_state"]
            after = seq_of(page["contacts"][-1]["contact_id"])
    latencies: list[float] = []
    answer: dict[str, Any] = {}
    for attempt in range(WARMUPS + repeat):
        started = time.perf_counter()
        response = client.post("/v3/contact/get", json=body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        answer = expect_ok(response)
        if attempt >= WARMUPS:
            latencies.append(elapsed_ms)
    return Measured(case, sorted(latencies), int(answer["count"]), len(answer["contacts"]), after)


class _Recorder:
    """Stands in for a Connection: keeps the statement a storage function would execute."""

    def __init__(self) -> None:
        self.statement: ClauseElement | None = None

    def execute(self, statement: ClauseElement, *args: Any, **kwargs: Any) -> _NoRows:
        self.statement = statement
        return _NoRows()


class _NoRows:
    def mappings(self) -> list[Any]:
        return []

    def scalar_one(self) -> int:
        return 0


# "named": no '%' doubling in literal SQL. "numeric_dollar": $1, $2... as the server sees them.
_LITERAL_DIALECT = sa_psycopg.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
_NUMBERED_DIALECT = sa_psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
MODES = ("custom", "generic")
KINDS = ("page", "count")


def server_statements(
    app_id: int, after: int, search: SearchTerm | None
) -> dict[str, ClauseElement]:
    """The two statements `services.contacts.get` runs for a page, as the storage builds them."""
    built: dict[str, ClauseElement] = {}
    recorder = _Recorder()
    connection = cast(Connection, recorder)
    # The service asks for one row more than the page, to know whether a next page exists.
    contacts_storage.page(
        connection, app_id=app_id, after=after, limit=PAGE_LIMIT + 1, search=search
    )
    assert recorder.statement is not None
    built["page"] = recorder.statement
    contacts_storage.count(connection, app_id=app_id, search=search)
    built["count"] = recorder.statement
    return built


def literal_sql(statement: ClauseElement) -> str:
    """The statement with its values written in: PostgreSQL plans it for these very values."""
    return str(statement.compile(dialect=_LITERAL_DIALECT, compile_kwargs={"literal_binds": True}))


def prepared_sql(statement: ClauseElement) -> tuple[str, list[Any]]:
    """The statement with $1, $2... as psycopg sends it to the server, and the values in order."""
    compiled = cast(SQLCompiler, statement.compile(dialect=_NUMBERED_DIALECT))
    names = compiled.positiontup or []
    return compiled.string, [compiled.params[name] for name in names]


def _node_label(node: dict[str, Any]) -> str:
    label = str(node["Node Type"])
    if node.get("Parallel Aware"):
        label = f"Parallel {label}"
    if "Index Name" in node:
        label += f" [{str(node['Index Name']).removeprefix('ix_contacts_')}]"
    return label


def plan_shape(node: dict[str, Any]) -> str:
    """The plan as node types, one path, branches in parentheses."""
    label = _node_label(node)
    children = node.get("Plans", [])
    if not children:
        return label
    if len(children) == 1:
        return f"{label} > {plan_shape(children[0])}"
    return f"{label}({', '.join(plan_shape(child) for child in children)})"


def explain(connection: psycopg.Connection[Any], statement: str, runs: int) -> Explained:
    """EXPLAIN ANALYZE the statement `runs` times; the median execution time, the last plan.

    The timed runs leave out per-node timing (TIMING OFF), whose clock reads
    can double the time of a plan that walks many rows; one more run with
    timing gives the text plan printed for slow statements.
    """
    times: list[float] = []
    plan: dict[str, Any] = {}
    for _ in range(runs):
        row = connection.execute(
            sql.SQL("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) {}").format(
                sql.SQL(statement)
            )
        ).fetchone()
        assert row is not None
        document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
        plan = document[0]
        times.append(float(plan["Execution Time"]))
    text_rows = connection.execute(
        sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(sql.SQL(statement))
    ).fetchall()
    top = plan["Plan"]
    top_node = (
        f"{_node_label(top)} rows={top.get('Actual Rows')} "
        f"shared hit={top.get('Shared Hit Blocks', 0)} read={top.get('Shared Read Blocks', 0)}"
    )
    return Explained(
        statement=statement,
        execution_ms=statistics.median(times),
        top_node=top_node,
        shape=plan_shape(top),
        text_plan="\n".join(str(line[0]) for line in text_rows),
    )


def explain_generic(
    connection: psycopg.Connection[Any], statement: ClauseElement, runs: int
) -> Explained:
    """EXPLAIN ANALYZE the statement as a prepared statement run with its generic plan.

    The server's driver, psycopg, prepares a statement on a connection once it
    has run it 5 times (its prepare_threshold); PostgreSQL then plans the
    prepared statement for its values 5 more times, and from then on uses the
    generic plan, made for any values, if that looks no costlier than the
    custom plans it has made so far. plan_cache_mode = force_generic_plan shows
    that generic plan.
    """
    text, values = prepared_sql(statement)
    connection.execute(sql.SQL("PREPARE bench_statement AS {}").format(sql.SQL(text)))
    try:
        connection.execute("SET plan_cache_mode = force_generic_plan")
        execute = sql.SQL("EXECUTE bench_statement ({})").format(
            sql.SQL(", ").join(sql.Literal(value) for value in values)
        )
        explained = explain(connection, execute.as_string(connection), runs)
    finally:
        connection.execute("RESET plan_cache_mode")
        connection.execute("DEALLOCATE bench_statement")
    return explained


# --- reporting ---------------------------------------------------------------------------


def machine_facts(database_url: str) -> list[tuple[str, str]]:
    facts = [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("cpu", cpu_model()),
        ("memory", memory_total()),
        ("python", platform.python_version()),
    ]
    with psycopg.connect(database_url, autocommit=True) as connection:
        version = connection.execute("SELECT version()").fetchone()
        facts.append(("postgresql", str(version[0]) if version else "?"))
        for setting in (
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "random_page_cost",
            "max_parallel_workers_per_gather",
            "jit",
        ):
            value = connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(setting)))
            row = value.fetchone()
            facts.append((setting, str(row[0]) if row else "?"))
    return facts


def relation_sizes(database_url: str) -> list[tuple[str, str]]:
    query = """
        SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid))
        FROM pg_class c
        WHERE c.oid = 'contacts'::regclass
           OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'contacts'::regclass)
        ORDER BY c.relkind DESC, pg_relation_size(c.oid) DESC
    """
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(query).fetchall()
        total = connection.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('contacts'))"
        ).fetchone()
    return [(str(name), str(size)) for name, size in rows] + [
        ("(contacts, total)", str(total[0]) if total else "?")
    ]


def print_report(
    results: list[Measured], load: LoadResult, sizes: list[tuple[str, str]], threshold_ms: float
) -> None:
    print()
    print(
        f"load         {load.rows:,} contacts by COPY in {load.generate_and_copy_seconds:.1f} s "
        f"= {load.rows / load.generate_and_copy_seconds:,.0f} rows/s "
        "(generating, computing search keys and COPY, every index in place)"
    )
    print(
        f"             then VACUUM (ANALYZE) contacts in {load.vacuum_analyze_seconds:.1f} s; "
        f"{load.validated:,} sample rows passed the server's field rules unchanged"
    )
    print("sizes        " + ", ".join(f"{name} {size}" for name, size in sizes))
    print()
    repeat = len(results[0].latencies_ms)
    print(
        f"POST /v3/contact/get, limit {PAGE_LIMIT}, one client, sequential, "
        f"{WARMUPS} warm-ups then n={repeat}; HTTP in ms"
    )
    print(
        "SQL: EXPLAIN ANALYZE execution time in ms of the server's two statements, "
        "page (limit 101) and count;"
    )
    print(
        "     custom = compiled with literal values; generic = PREPAREd and run with "
        "plan_cache_mode = force_generic_plan"
    )
    header = (
        f"{'case':<30} {'search':<12} {'count':>9} {'rows':>4} {'p50':>7} {'p95':>7} "
        f"{'max':>7} | {'page':>7} {'count':>7} | {'page':>7} {'count':>7}"
    )
    print(f"{'':<{header.index('|')}}| {'SQL custom':^15} | {'SQL generic':^15}")
    print(header)
    print("-" * len(header))
    for result in results:
        latencies = result.latencies_ms
        search = "-" if result.case.search is None else repr(result.case.search)
        figures = " | ".join(
            " ".join(f"{result.sql[kind, mode].execution_ms:>7.1f}" for kind in KINDS)
            for mode in MODES
        )
        print(
            f"{result.case.name:<30} {search:<12} {result.count:>9,} {result.returned:>4} "
            f"{nearest_rank(latencies, 0.5):>7.1f} {nearest_rank(latencies, 0.95):>7.1f} "
            f"{latencies[-1]:>7.1f} | {figures}"
        )
    print()
    print("Plans: execution ms, top node (rows, shared buffers), shape")
    for result in results:
        suffix = "" if result.case.search is None else f" ({result.case.search!r})"
        print(f"  {result.case.name}{suffix}")
        for mode in MODES:
            for kind in KINDS:
                explained = result.sql[kind, mode]
                print(
                    f"    {kind:<5} {mode:<7} {explained.execution_ms:8.1f} ms  "
                    f"{explained.top_node}"
                )
                print(f"          {explained.shape}")
    print()
    slow_http = [r for r in results if nearest_rank(r.latencies_ms, 0.5) > SLOW_MS]
    listed = ", ".join(
        f"{r.case.name} (p50 {nearest_rank(r.latencies_ms, 0.5):.0f} ms)" for r in slow_http
    )
    print(f"HTTP p50 over {SLOW_MS:.0f} ms: {listed or 'none'}")
    slow_sql = [
        (result, kind, mode)
        for result in results
        for mode in MODES
        for kind in KINDS
        if result.sql[kind, mode].execution_ms > threshold_ms
    ]
    for result, kind, mode in slow_sql:
        explained = result.sql[kind, mode]
        search = "" if result.case.search is None else f" ({result.case.search!r})"
        print()
        print(
            f"--- {result.case.name}{search}, {kind}, {mode} plan: "
            f"{explained.execution_ms:.1f} ms (over --plan-threshold-ms {threshold_ms:g}) ---"
        )
        print(explained.statement)
        print(explained.text_plan)


# --- main --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    loadavg_before = load_average()
    with (
        tempfile.TemporaryDirectory(prefix="contacthub-bench-") as directory,
        postgres_database(args.postgres_url, args.keep) as database_url,
    ):
        print(f"database     {database_url.rsplit('/', 1)[-1]} created")
        migrate(database_url)
        app = create_app(database_url)
        app_id = app.appid
        print(f"migrated     app {app_id} created")
        vocabulary = build_vocabulary(Random(args.seed))
        print(
            f"vocabulary   {len(vocabulary.first_names)} first names, "
            f"{len(vocabulary.last_names)} last names, {len(vocabulary.companies)} companies, "
            f"{vocabulary.domain_count} e-mail domains, {len(vocabulary.job_titles)} job titles"
        )
        validated = check_rows_valid(vocabulary, app_id, args.contacts, args.seed)

        log_path = Path(directory) / "server.log"
        with (
            running_server(database_url, log_path) as server,
            httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client,
        ):
            token = log_in(client, app)
            print(f"server       {server.base_url}, user logged in")

            generator = Generator(vocabulary, app_id, args.contacts, args.seed)
            print(f"loading      {args.contacts:,} contacts by COPY")
            load = load_contacts(
                database_url, generator, args.batch_rows, args.chunk_rows, validated
            )
            sizes = relation_sizes(database_url)
            cases = choose_cases(generator, args.contacts)

            # prepare_threshold=None: this connection prepares only what it is told to.
            with psycopg.connect(
                database_url, autocommit=True, prepare_threshold=None
            ) as connection:

                def seq_of(contact_id: str) -> int:
                    row = connection.execute(
                        "SELECT seq FROM contacts WHERE contact_id = %s", (contact_id,)
                    ).fetchone()
                    assert row is not None
                    return int(row[0])

                results = []
                for case in cases:
                    print(f"measuring    {case.name}", flush=True)
                    result = measure_http(client, token, case, args.repeat, seq_of)
                    search = None if case.search is None else parse_search(case.search)
                    for kind, statement in server_statements(app_id, result.after, search).items():
                        result.sql[kind, "custom"] = explain(
                            connection, literal_sql(statement), args.explain_runs
                        )
                        result.sql[kind, "generic"] = explain_generic(
                            connection, statement, args.explain_runs
                        )
                    results.append(result)

            loadavg_after = load_average()

        print_report(results, load, sizes, args.plan_threshold_ms)
        print()
        print("machine")
        for name, value in machine_facts(database_url):
            print(f"  {name:<32} {value}")
        print(f"  {'load average, before the load':<32} {loadavg_before}")
        print(f"  {'load average, after measuring':<32} {loadavg_after}")
    print(f"\ntotal        {time.perf_counter() - started:.1f} s")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure POST /v3/contact/get paging and search on PostgreSQL "
        "with one large organization loaded by COPY."
    )
    parser.add_argument(
        "--contacts", type=positive_int, default=1_000_000, help="contacts (default 1000000)"
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=f"a database to connect to for CREATE/DROP DATABASE (default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database instead of dropping it"
    )
    parser.add_argument(
        "--repeat", type=positive_int, default=20, help="timed requests per case (default 20)"
    )
    parser.add_argument(
        "--explain-runs",
        type=positive_int,
        default=3,
        help="EXPLAIN ANALYZE runs per statement; the median is reported (default 3)",
    )
    parser.add_argument(
        "--batch-rows",
        type=positive_int,
        default=100_000,
        help="rows per COPY statement and transaction (default 100000)",
    )
    parser.add_argument(
        "--chunk-rows",
        type=positive_int,
        default=5_000,
        help="rows generated and written to the COPY stream at a time (default 5000)",
    )
    parser.add_argument(
        "--plan-threshold-ms",
        type=float,
        default=50.0,
        help="print the full plan of statements slower than this (default 50)",
    )
    parser.add_argument("--seed", type=int, default=20261127, help="data seed (default 20261127)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not CONTACTHUB.exists():
        print(f"error: {CONTACTHUB} not found; run this with the project's .venv/bin/python")
        return 2
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
